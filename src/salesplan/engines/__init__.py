"""Pure computation (no Django): assignment, alignment, allocation, forecasting."""
