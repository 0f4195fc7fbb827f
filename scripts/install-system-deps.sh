#!/usr/bin/env bash
# Installs the system packages Parley's services and tests need (Debian/Ubuntu):
#   nats-server       the message broker (tests start private ones)
#   ffmpeg            decodes browser audio (webm/opus, ogg, mp3, m4a) in the stt-service
#   espeak-ng(-data)  phonemizer data for Piper voices; espeak-ng also makes test speech
#   cmake, g++        build whisper-server from the whisper.cpp source nodejs-whisper bundles
#   sox               test audio
#   chromium          browser tests of the web client
#   openssl           a throwaway certificate for the HTTPS/WSS test
#   prometheus        promtool and a real Prometheus for the dashboard and alert-rule checks
# Idempotent: installs only what is missing.
set -euo pipefail
packages=(nats-server ffmpeg espeak-ng espeak-ng-data cmake g++ make sox chromium prometheus openssl)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi
echo "system packages: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
