# keywarden in a small image: a static-ish release binary on Debian slim.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked

FROM debian:bookworm-slim
RUN useradd --system --home-dir /opt/keywarden keywarden \
    && mkdir -p /opt/keywarden/data/import \
    && chown -R keywarden /opt/keywarden
COPY --from=build /src/target/release/keywarden /usr/local/bin/keywarden
WORKDIR /opt/keywarden
USER keywarden
EXPOSE 8080
ENTRYPOINT ["keywarden"]
CMD ["start-dev"]
