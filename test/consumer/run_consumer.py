#!/usr/bin/env python3
"""Builds and runs a consumer of gauth, as an application would use it.

  run_consumer.py subproject SOURCE_ROOT   gauth as a Meson subproject, through dependency('gauth')
  run_consumer.py installed SOURCE_ROOT BUILD_ROOT
                                           `meson install` of BUILD_ROOT into a temporary root, then a
                                           program compiled with `pkg-config --cflags --libs gauth` only
"""
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def run(cmd, **kwargs):
    print("+", " ".join(cmd), flush=True)
    return subprocess.run(cmd, check=True, **kwargs)


def subproject(source_root: str, work: str) -> None:
    project = os.path.join(work, "project")
    shutil.copytree(os.path.join(HERE, "project"), project)
    os.makedirs(os.path.join(project, "subprojects"))
    os.symlink(source_root, os.path.join(project, "subprojects", "gauth"))
    build = os.path.join(work, "build")
    # The subproject even where an installed gauth exists; system fmt, curl, ...
    run(["meson", "setup", build, project, "--force-fallback-for=gauth", "-Dgauth:testing=false"])
    run(["meson", "compile", "-C", build])
    run([os.path.join(build, "consumer")])


def installed(source_root: str, build_root: str, work: str) -> None:
    root = os.path.join(work, "root")
    run(["meson", "install", "-C", build_root, "--no-rebuild", "--destdir", root],
        stdout=subprocess.DEVNULL)
    pcs = [os.path.join(d, f) for d, _, files in os.walk(root) for f in files if f == "gauth.pc"]
    if not pcs:
        sys.exit("no gauth.pc was installed")
    env = dict(os.environ, PKG_CONFIG_PATH=os.path.dirname(pcs[0]), PKG_CONFIG_SYSROOT_DIR=root)
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "gauth"], env=env, check=True,
                           capture_output=True, text=True).stdout.split()
    print("pkg-config gauth:", " ".join(flags), flush=True)
    if any(source_root in f for f in flags):
        sys.exit("pkg-config points into the source tree")
    program = os.path.join(work, "consumer")
    run(["c++", "-std=c++17", os.path.join(HERE, "project", "main.cpp"), "-o", program] + flags)
    libdirs = [f[2:] for f in flags if f.startswith("-L")]
    run([program], env=dict(os.environ, LD_LIBRARY_PATH=":".join(libdirs)))


def main() -> None:
    mode, source_root = sys.argv[1], os.path.abspath(sys.argv[2])
    with tempfile.TemporaryDirectory(prefix="gauth-consumer-") as work:
        if mode == "subproject":
            subproject(source_root, work)
        else:
            installed(source_root, os.path.abspath(sys.argv[3]), work)


if __name__ == "__main__":
    main()
