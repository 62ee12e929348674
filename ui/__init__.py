"""Streamlit helpers shared by the pages: context (clients, dataset group, user), feedback, actions."""
