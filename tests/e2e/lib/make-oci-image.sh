#!/usr/bin/env bash
# Builds an OCI image archive (oci-layout + index.json + blobs, one uncompressed layer)
# holding busybox-static and its applets as hard links, for `ctr images import` in the
# test host: no registry is reachable there. Image name: docker.io/library/<NAME>:e2e.
# A top-level manifest.json (the `docker save` format) makes the same archive loadable by
# Docker 20.10's `docker load`, which does not read OCI layouts.
# NAME (default busybox) and CMD (a JSON array, default ["sh"]) make other images of the same
# tree: containerd_cri's pause image is busybox that sleeps.
# usage: make-oci-image.sh OUT.tar [NAME [CMD_JSON]]
set -euo pipefail
out=${1:?usage: make-oci-image.sh OUT.tar [NAME [CMD_JSON]]}
name=${2:-busybox}
cmd=${3:-'["sh"]'}
bb=$(command -v busybox)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/rootfs/bin" "$work/rootfs/tmp" "$work/rootfs/etc" "$work/layout/blobs/sha256"
cp "$bb" "$work/rootfs/bin/busybox"
for a in $("$bb" --list); do [ "$a" = busybox ] || ln -f "$work/rootfs/bin/busybox" "$work/rootfs/bin/$a"; done
chmod 1777 "$work/rootfs/tmp"
blob() {  # blob FILE -> prints "sha256:<hex> <size>" and stores the file as a blob
  local d s
  d=$(sha256sum "$1" | cut -d' ' -f1)
  s=$(stat -c %s "$1")
  cp "$1" "$work/layout/blobs/sha256/$d"
  echo "sha256:$d $s"
}
tar -C "$work/rootfs" --numeric-owner --owner=0 --group=0 --sort=name -cf "$work/layer.tar" .
read -r layer layer_size < <(blob "$work/layer.tar")
cat >"$work/config.json" <<JSON
{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":$cmd},"rootfs":{"type":"layers","diff_ids":["$layer"]}}
JSON
read -r config config_size < <(blob "$work/config.json")
cat >"$work/manifest.json" <<JSON
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"$config","size":$config_size},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"$layer","size":$layer_size}]}
JSON
read -r manifest manifest_size < <(blob "$work/manifest.json")
cat >"$work/layout/index.json" <<JSON
{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"$manifest","size":$manifest_size,"platform":{"architecture":"amd64","os":"linux"},"annotations":{"io.containerd.image.name":"docker.io/library/$name:e2e","org.opencontainers.image.ref.name":"e2e"}}]}
JSON
echo '{"imageLayoutVersion":"1.0.0"}' >"$work/layout/oci-layout"
cat >"$work/layout/manifest.json" <<JSON
[{"Config":"blobs/sha256/${config#sha256:}","RepoTags":["$name:e2e"],"Layers":["blobs/sha256/${layer#sha256:}"]}]
JSON
tar -C "$work/layout" --numeric-owner --owner=0 --group=0 -cf "$out.tmp" oci-layout index.json manifest.json blobs
mv "$out.tmp" "$out"
