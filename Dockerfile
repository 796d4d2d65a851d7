# SPDX-License-Identifier: Apache-2.0
# event-router image: build on Debian 12 with the same dependency script CI
# uses, run the unit tests, and ship only the binary and its runtime
# libraries on bookworm-slim as a non-root user.
#
#   docker build -t event-router:local .
#   docker run --rm -v "$PWD/deploy/compose/router.yaml:/etc/event-router/router.yaml:ro" \
#       -v "$PWD/rules:/etc/event-router/rules:ro" event-router:local
#
# Configuration: /etc/event-router/router.yaml (mount it). Rules: the
# directory /etc/event-router/rules (mount a volume, a bind mount or a
# ConfigMap there, not a single file, so the router's inotify watch on the
# directory sees updates and reloads them; SIGHUP reloads too).

ARG DEBIAN_RELEASE=bookworm

# ---- build ------------------------------------------------------------------
FROM debian:${DEBIAN_RELEASE} AS build
# install-deps and what it sources first, so the package layer is cached
# across source changes. --build-only: apt packages to build and unit-test
# and librdkafka, built from Debian's source package (sid's deb-src, the
# version pinned in lib.sh) into ER_LIBRDKAFKA_PREFIX, where CMake finds it
# too; none of the JRE, Kafka jars or nats-server the local clusters need.
ENV ER_LIBRDKAFKA_PREFIX=/opt/librdkafka
COPY deploy/local/install-deps deploy/local/lib.sh deploy/local/ports.env /src/deploy/local/
RUN /src/deploy/local/install-deps --build-only && rm -rf /var/lib/apt/lists/*

COPY . /src
WORKDIR /src
# Warnings are errors here as in CI (tests/run builds RelWithDebInfo with
# -Werror; this Release build was checked warning-free with gcc 12).
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DER_WERROR=ON \
    && ninja -C /build \
    && ctest --test-dir /build -L unit --output-on-failure \
    && strip /build/event-router \
    && /build/event-router version | grep -qx "librdkafka $(sed -n 's/^ER_LIBRDKAFKA_VERSION="\(.*\)"$/\1/p' deploy/local/lib.sh)"

# ---- runtime ----------------------------------------------------------------
FROM debian:${DEBIAN_RELEASE}-slim AS runtime
# Runtime libraries only (the Debian packages the -dev packages above build
# against; for librdkafka what Debian's librdkafka1 depends on, plus libcurl4
# for OIDC, which curl brings anyway), and curl for the HEALTHCHECK.
RUN apt-get update -q \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        libnats3.4 libcyaml1 libyaml-0-2 libmicrohttpd12 libyajl2 libssl3 \
        libsasl2-2 zlib1g libzstd1 liblz4-1 libcurl4 ca-certificates curl \
    && rm -rf /var/lib/apt/lists/*
# The librdkafka built in the build stage, at the same path: the binary's
# RUNPATH names /opt/librdkafka/lib (Debian 12's librdkafka1 is 2.0.2).
COPY --from=build /opt/librdkafka/lib/librdkafka.so.1 /opt/librdkafka/lib/

# A fixed numeric uid/gid so Kubernetes' runAsNonRoot can verify it.
RUN groupadd --system --gid 10001 event-router \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin event-router \
    && mkdir -p /etc/event-router/rules

COPY --from=build /build/event-router /usr/local/bin/event-router

USER 10001:10001
# Rules are data that changes at run time: always a mounted directory.
VOLUME ["/etc/event-router/rules"]
# Admin endpoint (/metrics, /healthz, /readyz); the config must set
# http.listen to 0.0.0.0:9180 for it to be reachable from outside the container.
EXPOSE 9180
# Liveness only (/healthz): /readyz also fails while Kafka or NATS is away,
# which is not a reason to call the process broken.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:9180/healthz"]
# SIGTERM drains in-flight publishes and commits (limits.drain_timeout_ms).
STOPSIGNAL SIGTERM
ENTRYPOINT ["event-router"]
CMD ["run", "-c", "/etc/event-router/router.yaml"]
