"""Start page of the ensemble-explorer dashboard (the dashboard issue fills this in)."""

import streamlit as st

st.set_page_config(page_title="ensemble-explorer", layout="wide")
st.title("ensemble-explorer")
st.write("Explore classifier ensembles: combine models, move weights, see what changes.")
