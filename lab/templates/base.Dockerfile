FROM @ROOTFS@
LABEL org.opencontainers.image.title="@APP@-base" org.opencontainers.image.version="1"
# one ~40 MB layer: 20 MiB random (incompressible) + ~20 MB text (compressible)
RUN mkdir -p /usr/share/@APP@ && head -c 20971520 /dev/urandom >/usr/share/@APP@/random.bin && seq 1 2700000 >/usr/share/@APP@/numbers.txt
