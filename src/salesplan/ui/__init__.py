"""The UI kit every app builds its pages with: form helpers, charts, list and record pages.

It sits just above `core` and below `org`, so every app may use it (the company settings
pages in `org` too); nothing here knows a particular record type or imports `org`.
`web` is only the shell (layout, navigation, the CRM core's pages) and imports the kit
like any other app.
"""
