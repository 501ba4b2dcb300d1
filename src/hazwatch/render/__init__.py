"""Documents from templates: HTML with Jinja2 (``html``), PDF from that HTML with WeasyPrint
(``pdf``), and the incident report's content (``incident_report``).

Templates ship inside the package (``templates/``) and are self-contained — CSS inline,
charts as inline SVG, no fonts or scripts from a network (plant networks are air-gapped).
"""
