#!/usr/bin/python3
"""Print the directory `make install` puts the procmgr package in, for the
PREFIX given as the argument, as the running interpreter lays it out.

Debian's python3 searches /usr/lib/python3/dist-packages (its packages)
and /usr/local/lib/python3.X/dist-packages (the administrator's), not the
upstream site-packages; elsewhere, and for any other prefix, the upstream
layout PREFIX/lib/python3.X/site-packages is used (for PREFIX=$HOME/.local
that is the user site directory, which Python searches by itself).
"""
import sys
import sysconfig

prefix = sys.argv[1].rstrip("/") or "/"
schemes = sysconfig.get_scheme_names()
if prefix == "/usr" and "deb_system" in schemes:
    scheme, base = "deb_system", "/usr"
elif prefix == "/usr/local" and "posix_local" in schemes:
    scheme, base = "posix_local", "/usr"      # it adds the /local itself
else:
    scheme, base = "posix_prefix", prefix
print(sysconfig.get_path("purelib", scheme,
                         vars={"base": base, "platbase": base}))
