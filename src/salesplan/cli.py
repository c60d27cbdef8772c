"""The `salesplan` console command: Django's management commands under one name."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesplan.config.settings")
    import django
    from django.core.management import execute_from_command_line

    django.setup()
    from salesplan.core.clock import activate_company_time_zone_if_known

    activate_company_time_zone_if_known()
    execute_from_command_line(["salesplan", *sys.argv[1:]])


if __name__ == "__main__":
    main()
