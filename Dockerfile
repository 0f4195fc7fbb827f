# One image for every Parley service; the command picks the service:
#   docker run parley node apps/llm-service/dist/main.js
# Models are not in the image: mount them at /models (PARLEY_MODELS_DIR) after
# `npm run models -- pull`, or run the `models` one-shot service of docker-compose.yml.

# ---- build: dependencies, TypeScript, and whisper-server from nodejs-whisper's whisper.cpp
FROM node:20-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends cmake g++ make python3 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json turbo.json ./
COPY tooling ./tooling
COPY packages ./packages
COPY apps ./apps
RUN npm ci --no-audit --no-fund
RUN npx turbo run build
# Portable (GGML_NATIVE=OFF) static build, so the image runs on any x86-64 CPU.
RUN WHISPER_BUILD_DIR=/opt/whisper node apps/stt-service/scripts/build-whisper-server.mjs
# Production dependencies only; node-llama-cpp's CUDA/Vulkan prebuilts are ~700 MB and unused on CPU.
# The stt-service only reads silero_vad_v5.onnx from @ricky0123/vad-web (sherpa-onnx runs it), so
# that package's browser runtime (onnxruntime-web, ~145 MB) goes too.
RUN npm prune --omit=dev \
 && rm -rf node_modules/@node-llama-cpp/linux-x64-cuda* node_modules/@node-llama-cpp/linux-x64-vulkan \
           node_modules/@node-llama-cpp/linux-arm* node_modules/@node-llama-cpp/mac-* node_modules/@node-llama-cpp/win-* \
           node_modules/onnxruntime-web

# ---- runtime
FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg espeak-ng-data libgomp1 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production \
    PARLEY_MODELS_DIR=/models \
    WHISPER_SERVER_BIN=/opt/whisper/build/bin/whisper-server \
    ESPEAK_NG_DATA=/usr/lib/x86_64-linux-gnu/espeak-ng-data
COPY --from=build /app /app
COPY --from=build /opt/whisper/build/bin/whisper-server /opt/whisper/build/bin/whisper-server
USER node
EXPOSE 8000 9101 9102 9103
CMD ["node", "apps/gateway/dist/main.js"]
