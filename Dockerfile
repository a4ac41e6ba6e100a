# Image of the ecommerce binary, used by docker-compose.yml.
FROM golang:1.27.3 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/ecommerce ./cmd/ecommerce

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/ecommerce /ecommerce
ENTRYPOINT ["/ecommerce"]
