from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "salesplan.customers"
    label = "customers"
