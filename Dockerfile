# ecehub hub image. Build: docker build -t ecehub .
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY ecehub ./ecehub
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
# /app/data is the one place the server writes (uploaded files; a SQLite hub store if no
# PostgreSQL URL is given): owned by the unprivileged user, a volume.
RUN useradd --system --uid 10001 --home /app ecehub \
    && mkdir -p /app/data/files \
    && chown -R ecehub /app/data
WORKDIR /app
COPY --from=build /install /usr/local
COPY config ./config
ENV ECEHUB_FILES_DIR=/app/data/files \
    ECEHUB_HUB_URL=sqlite+aiosqlite:////app/data/hub.db
VOLUME /app/data
USER ecehub
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz').status == 200 else 1)"
# Mount your state's config at /app/config/state.yaml (config/state.example.yaml is a start)
# and pass secrets as environment variables (.env.example). --migrate upgrades the hub store
# before serving; with several replicas, run `ecehub db upgrade --config ...` once as a job
# instead and drop --migrate (deploy/kubernetes.yaml does).
CMD ["ecehub", "serve", "--config", "/app/config/state.yaml", "--host", "0.0.0.0", "--port", "8000", "--migrate"]
