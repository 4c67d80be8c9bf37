# syntax=docker/dockerfile:1

# Build: the whole workspace is needed to resolve Cargo.lock (members: ., migrations, bench).
FROM rust:1.95-bookworm AS builder
WORKDIR /build
COPY Cargo.toml Cargo.lock ./
COPY migrations ./migrations
COPY bench ./bench
COPY src ./src
# The dashboard's page, script and ECharts are embedded into the binary.
COPY assets ./assets
# The registry and target caches survive between builds; the binary is copied out of them.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/build/target \
    cargo build --release --locked --bin xianfeng \
 && cp target/release/xianfeng /usr/local/bin/xianfeng

# Run: a slim Debian with CA certificates (WeChat API over TLS) and curl (health checks).
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --create-home --home-dir /var/lib/xianfeng xianfeng
COPY --from=builder /usr/local/bin/xianfeng /usr/local/bin/xianfeng
ENV DATA_DIR=/var/lib/xianfeng \
    BIND_ADDR=0.0.0.0:8080
WORKDIR /var/lib/xianfeng
USER xianfeng
EXPOSE 8080
ENTRYPOINT ["xianfeng"]
CMD ["serve", "--no-demo"]
