import streamlit as st

st.title("audit_log")
st.info("This page is being built.")
