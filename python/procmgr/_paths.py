"""Where an installed copy of the package finds libprocmgr.

In the source tree LIBDIR is None: the package then uses the build next to
it (../build) or the dynamic linker's search. `make install` writes this
file anew with the LIBDIR it installed the library into, so a package
installed under a prefix the linker does not search (PREFIX=$HOME/.local,
/opt/...) still loads the library installed with it.
"""

LIBDIR = None
