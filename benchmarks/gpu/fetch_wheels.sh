#!/usr/bin/env bash
# Here (with pip and a registry), once: the wheels the lent machine lacks, into build/gpu-wheels
# (ignored by git; the device tool carries it). The image has torch, accelerate, tokenizers,
# safetensors and huggingface_hub, but no PyAV, transformers 5.17 (its TrainingArguments has no
# activation_checkpointing, which the recipe uses) and an unknown peft.
set -e
cd "$(dirname "$0")/../.."
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    -d build/gpu-wheels av==18.1.0 transformers==5.24.0 peft==0.21.2
du -sh build/gpu-wheels
