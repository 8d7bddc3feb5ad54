# Parcours service: SQLite in the /data volume by default; set PARCOURS_DATABASE_URL for PostgreSQL.
#   docker build -t parcours . && docker run -p 8000:8000 -v parcours-data:/data parcours
FROM python:3.11-slim

ENV PIP_NO_CACHE_DIR=1 \
    PYTHONUNBUFFERED=1 \
    PARCOURS_DATA_DIR=/data \
    PARCOURS_DATABASE_URL=sqlite:////data/parcours.db \
    HF_HUB_OFFLINE=1

WORKDIR /srv/parcours
# torch first, CPU build, pinned: an unpinned torch (pulled in by sentence-transformers) brings gigabytes of CUDA.
RUN pip install "torch==2.13.0" --index-url https://download.pytorch.org/whl/cpu
COPY pyproject.toml README.md ./
COPY nlp nlp
COPY app app
COPY data data
COPY models models
COPY scripts scripts
RUN pip install -e . && python -c "import nlp; nlp.load_pipeline()"

RUN useradd --create-home parcours && mkdir -p /data && chown parcours /data
USER parcours
VOLUME /data
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health')"
CMD ["parcours", "serve", "--host", "0.0.0.0", "--port", "8000"]
