# syntax=docker/dockerfile:1
# Herald's image where a container daemon is at hand:
#   docker build -t herald .
# Without one, `go run ./deploy/image` builds the same image as a tarball
# (CI does), and `ko build ./cmd/herald` (.ko.yaml) pushes one to a registry.
# deploy/image's TestDockerfile_MatchesImage keeps the two images alike.

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# Static (the SQLite driver is pure Go), without local paths, with the commit
# recorded for `herald version`.
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=true -ldflags="-s -w" -o /out/herald ./cmd/herald \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/herald /herald
# The volume's mount point, owned by the user: a new volume takes its owner.
COPY --from=build --chown=65532:65532 --chmod=0700 /out/data /data
USER 65532:65532
ENV HERALD_ADDR=:8080 HERALD_DATA_DIR=/data
EXPOSE 8080/tcp
VOLUME ["/data"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 CMD ["/herald", "healthcheck"]
ENTRYPOINT ["/herald"]
CMD ["serve"]
