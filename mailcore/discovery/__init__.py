"""Finding an address's server settings: the provider lists, the domain's autoconfig document,
DNS SRV and MX records, and probing the usual names. Nothing here logs in or sends a password;
`detect.Detector` ranks the sources and holds the whole search to one budget."""
