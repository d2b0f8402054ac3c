# ecehub hub image. Build: docker build -t ecehub .
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY ecehub ./ecehub
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
RUN useradd --system --uid 10001 --home /app ecehub
WORKDIR /app
COPY --from=build /install /usr/local
COPY config ./config
USER ecehub
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz').status == 200 else 1)"
# Mount your state's config at /app/config/state.yaml and pass secrets as environment variables.
CMD ["ecehub", "serve", "--config", "/app/config/state.yaml", "--host", "0.0.0.0", "--port", "8000"]
