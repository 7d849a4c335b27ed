from setuptools import setup

# cffi hooks into setuptools only through this keyword (no pyproject-only form).
setup(cffi_modules=["build_ffi.py:ffibuilder"])
