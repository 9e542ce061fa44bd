"""TRL's GRPOTrainer, taught to take a video. TRL 1.16 passes images only (an album of frames in
the prompt); generation shows the model one video through the processor (frames + video
metadata, `<|video_pad|>` tokens), and a model trained on an album is not the model that answers a
video. `VideoGRPOTrainer` keeps TRL's whole loop (sampling, rewards, advantages, loss) and replaces
the three places where pixels enter:

- `_tokenize_prompts`: each prompt row's clip is decoded (`video.frames.sample_frames`, as the
  SFT trainer does), put in the user turn by `training.data.to_messages` (the SFT trainer's turn
  builder) and encoded by the processor as ONE video with its metadata, as the transformers
  backend does; encodings are cached per row (deterministic, like the SFT dataset's cache).
- `_generate_and_score_completions`: the per-completion video tensors ride along in the batch
  (as per-sample lists, which TRL shuffles and splits in unison with the tensors).
- `_get_per_token_logps_and_entropies`: the forward passes (policy, reference, old policy) get
  the video tensors of exactly their rows; TRL's own image path is used when there is no video.

The dataset TRL iterates holds only a text `prompt` (TRL's bookkeeping and logs), the row index
`row` and the `labels` column the reward reads.
"""
from __future__ import annotations

import logging
from typing import Any

from ..errors import SkipRecord

log = logging.getLogger(__name__)
# Processor outputs that are per token (padded by TRL) rather than per video.
TOKEN_KEYS = ("input_ids", "attention_mask", "mm_token_type_ids", "token_type_ids")
VIDEO_TYPE_ID = 2      # transformers' mm_token_type_ids: 0 text, 1 image, 2 video


def make_trainer_class() -> type:
    """The GRPOTrainer subclass (built lazily: importing trl costs seconds)."""
    import torch
    from trl import GRPOTrainer

    class VideoGRPOTrainer(GRPOTrainer):
        data_wait_s = 0.0        # the SFT checkpoint writer reads these (no data loader to wait on here)
        startup_wait_s = None

        def __init__(self, *args: Any, rows: list[dict[str, Any]], num_frames: int, frame_size: int | None,
                     cache_rows: int = 0, videos_cache: dict[str, Any] | None = None, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.videos_cache = videos_cache
            self.video_rows, self.num_frames, self.frame_size = rows, num_frames, frame_size
            self.cache_rows = cache_rows
            self._encoded: dict[int, dict[str, Any]] = {}
            self._batch: list[dict[str, Any]] | None = None      # encodings of the batch's rows
            self._video_ctx: list[dict[str, Any]] | None = None
            proc = self.processing_class
            token = getattr(proc, "video_token", None)
            self.video_token_id = proc.tokenizer.convert_tokens_to_ids(token) if token else None

        # -- one video per prompt, as generation shows it ---------------------------------
        def encode_row(self, index: int) -> dict[str, Any]:
            """Processor outputs (batch of 1) of row `index`'s prompt with its clip as one video."""
            if index in self._encoded:
                return self._encoded[index]
            import numpy as np

            from ..sources.storage import local_clip
            from ..video.frames import sample_frames
            from .data import to_messages

            row = self.video_rows[index]
            try:
                frames = sample_frames(local_clip(row["path"], self.videos_cache), self.num_frames, start=row["clip_start"], end=row["clip_end"],
                                       size=self.frame_size)
            except SkipRecord:
                raise
            except Exception as exc:
                raise SkipRecord("video_unreadable", f"{type(exc).__name__}: {exc}", file=row["path"]) from exc
            array, meta = np.ascontiguousarray(frames.array), frames.metadata()
            need = int(getattr(self.processing_class.video_processor, "temporal_patch_size", 1) or 1)
            if len(array) < need:   # as the transformers backend does: repeat the last frame
                extra = need - len(array)
                array = np.concatenate([array, np.repeat(array[-1:], extra, axis=0)])
                meta["frames_indices"] = list(meta["frames_indices"]) + [meta["frames_indices"][-1]] * extra
            messages = to_messages(row["conversations"], array)
            text = self.processing_class.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
            out = dict(self.processing_class(text=[text], videos=[array], video_metadata=[meta],
                                             do_sample_frames=False, return_tensors="pt"))
            if len(self._encoded) < self.cache_rows:
                self._encoded[index] = out
            return out

        def _tokenize_prompts(self, prompts: list) -> tuple[list, Any, dict[str, Any]]:
            if self._batch is None:
                return super()._tokenize_prompts(prompts)
            encs = self._batch
            prompt_ids = [e["input_ids"][0].tolist() for e in encs]
            fields: dict[str, Any] = {}
            for key in encs[0]:
                if key in ("input_ids", "attention_mask"):
                    continue
                if key in TOKEN_KEYS:             # per token: TRL left-pads lists like the ids
                    fields[key] = [e[key][0].tolist() for e in encs]
                else:
                    fields[key] = torch.cat([e[key] for e in encs])
            return prompt_ids, None, fields

        def _generate_and_score_completions(self, inputs: list[dict[str, Any]]) -> dict[str, Any]:
            if "row" not in inputs[0]:
                return super()._generate_and_score_completions(inputs)
            memo: dict[int, dict[str, Any]] = {}      # a prompt's completions share its encoding
            for x in inputs:
                if int(x["row"]) not in memo:
                    memo[int(x["row"])] = self.encode_row(int(x["row"]))
            self._batch = [memo[int(x["row"])] for x in inputs]
            videos = [{k: v for k, v in e.items() if k not in TOKEN_KEYS} for e in self._batch]
            self._video_ctx = videos
            try:
                out = super()._generate_and_score_completions(inputs)
            finally:
                self._batch = self._video_ctx = None
            out["videos"] = videos           # a list: shuffled and split with the batch's tensors
            return out

        def _compute_loss(self, model: Any, inputs: dict[str, Any]) -> Any:
            self._video_ctx = inputs.get("videos")
            try:
                return super()._compute_loss(model, inputs)
            finally:
                self._video_ctx = None

        def _get_per_token_logps_and_entropies(self, model, input_ids, attention_mask, logits_to_keep,
                                               batch_size=None, compute_entropy=False, compute_aux_loss=False,
                                               **image_kwargs):  # type: ignore[override]
            if self._video_ctx is None:
                return super()._get_per_token_logps_and_entropies(
                    model, input_ids, attention_mask, logits_to_keep, batch_size=batch_size,
                    compute_entropy=compute_entropy, compute_aux_loss=compute_aux_loss, **image_kwargs)
            videos = self._video_ctx
            if len(videos) != input_ids.size(0):
                raise RuntimeError(f"{len(videos)} videos for {input_ids.size(0)} sequences")
            batch_size = batch_size or input_ids.size(0)
            logps, entropies, aux = [], [], []
            for start in range(0, input_ids.size(0), batch_size):
                end = min(start + batch_size, input_ids.size(0))
                ids = input_ids[start:end]
                mask = attention_mask[start:end]
                inputs = {"input_ids": ids, "attention_mask": mask}
                for key in videos[start]:
                    inputs[key] = torch.cat([v[key] for v in videos[start:end]]).to(ids.device)
                if self.video_token_id is not None and "video_grid_thw" in inputs:
                    inputs["mm_token_type_ids"] = (ids == self.video_token_id).long() * VIDEO_TYPE_ID
                if compute_aux_loss:
                    inputs["output_router_logits"] = True
                labels = ids.masked_fill(mask == 0, -100)
                labels[:, :-logits_to_keep] = -100
                with self.accelerator.autocast():
                    outputs = model(**inputs, labels=labels, fused_lm_head=True)
                logps.append(outputs.log_probs[:, -logits_to_keep:])
                if compute_entropy:
                    entropies.append(outputs.entropy[:, -logits_to_keep:])
                if compute_aux_loss:
                    aux.append(outputs.aux_loss)
            return (torch.cat(logps, dim=0), torch.cat(entropies, dim=0) if compute_entropy else None,
                    torch.stack(aux).mean() if compute_aux_loss else None)

    return VideoGRPOTrainer
