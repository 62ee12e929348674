"""The dashboard's plain-Python logic, free of Streamlit, grouped by layer: core, data, models,
recommendations, demo, and the retrain pipeline on top of them. It reaches Personalize (AWS or the
embedded engine) only through boto3."""
