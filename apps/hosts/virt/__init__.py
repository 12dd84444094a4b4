"""The only package (with its siblings in other apps' virt/) that imports libvirt."""
