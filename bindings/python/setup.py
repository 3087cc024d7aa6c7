"""Build of the tally extension module (pyproject.toml holds the metadata).

The extension compiles libtally's own sources (shm/*.c of this repository)
into itself instead of linking an installed libtally.so. The module maps the
region's layout through tally.h's inline add, so it must carry the very
library whose layout it was compiled against: a system libtally of another
release would disagree about the layout at run time. It also means that
`pip install ./bindings/python` works on a machine where libtally was never
installed. TALLY_SHM_DIR names another shm/ directory (the tests build from a
copy of this package); TALLY_SANITIZE=1 builds with ASan and UBSan.
"""
import os
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
SHM = os.path.abspath(os.environ.get("TALLY_SHM_DIR") or os.path.join(HERE, "..", "..", "shm"))
SHM_SOURCES = ["region.c", "counters.c", "names.c", "errors.c", "guard.c"]
MODULE_SOURCES = ["tally/_tally.c", "tally/_region.c", "tally/_counter.c"]

if not os.path.isfile(os.path.join(SHM, "tally.h")):
    sys.exit(
        f"setup.py: libtally's sources are not at {SHM}: build from the tally repository "
        "(pip install ./bindings/python from its root), or set TALLY_SHM_DIR to its shm/ directory"
    )



class BuildWithLibtally(build_ext):
    """Adds libtally's sources at build time. They lie outside this
    package, so they cannot be setup() arguments (setuptools refuses paths
    that leave it); by absolute path, each object lands under build_temp."""

    def build_extension(self, ext):
        ext.sources = ext.sources + [os.path.join(SHM, s) for s in SHM_SOURCES]
        super().build_extension(ext)


cflags = ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-fno-strict-aliasing",
          "-fvisibility=hidden"]
ldflags = []
if os.environ.get("TALLY_SANITIZE") == "1":
    cflags += ["-fsanitize=address,undefined", "-fno-sanitize-recover=all",
               "-fno-omit-frame-pointer", "-O1", "-g"]
    ldflags += ["-fsanitize=address,undefined"]

setup(
    cmdclass={"build_ext": BuildWithLibtally},
    ext_modules=[
        Extension(
            "tally._tally",
            sources=MODULE_SOURCES,
            depends=["tally/_tally.h"],
            include_dirs=[SHM, "tally"],
            define_macros=[("_GNU_SOURCE", None)],
            extra_compile_args=cflags,
            extra_link_args=ldflags,
        )
    ]
)
