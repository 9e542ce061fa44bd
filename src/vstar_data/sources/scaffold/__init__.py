"""Skeleton files written by `vstar-data new-adapter`, and what differs per label type.

`new-adapter --label-type T` writes the same adapter and template skeletons for each of the nine
built-in label types; only the CSV columns, the function that turns a row into a label spec, the
question phrasings and the template backend's answers differ, and they live here as data. Every
kind is checked by the test that scaffolds it and runs the conformance suite on the result.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LabelKind:
    """What a skeleton for one label type needs: CSV columns (besides video, split), an example
    row, the body of `_label(row) -> (spec, context)`, questions and template-backend answers."""

    columns: tuple[str, ...]
    example: str
    body: str
    questions: tuple[str, ...]
    answers: tuple[str, ...] = ("{label}.",)


def _q(*texts: str) -> tuple[str, ...]:
    return texts


KINDS: dict[str, LabelKind] = {
    "category": LabelKind(
        ("label",), "clips/a.mp4,juggling",
        '# `synonyms` are other accepted spellings of the class.\n'
        'return {"type": "category", "name": "category", "value": row["label"], "synonyms": []}, {}',
        _q("What is happening in this video?", "What does this clip show?", "Describe the main activity in the video.",
           "What is the person in the video doing?", "Which action can be seen in this clip?",
           "What is the main event captured in this footage?", "Watch the video. What is going on?",
           "Can you describe what takes place in the clip?", "What activity is shown in this video?",
           "Identify what is being done in the video."),
        ("The video shows {category}.", "This clip shows {category}.")),
    "number": LabelKind(
        ("value",), "clips/a.mp4,3.2",
        '# Add "rel_tol" / "abs_tol" (else the verifier profile\'s) and a "unit" if the value has one.\n'
        'return {"type": "number", "name": "value", "value": float(row["value"])}, {}',
        _q("What value does the video show?", "Watch the clip and give the number it shows.",
           "Which number describes what happens in this video?", "What is the measured value in this clip?",
           "State the value you can read from the video.", "How large is the quantity shown in the clip?",
           "Give the number that this video is about.", "What number would you assign to this clip?",
           "Estimate the value from the video.", "Which value fits what the video shows?")),
    "interval": LabelKind(
        ("start", "end"), "clips/a.mp4,12.4,18.9",
        '# Seconds from the video\'s start (or from clip_start when you set one). Optional "min_iou"\n'
        '# (default: the verifier profile\'s, 0.5).\n'
        'start, end = float(row["start"]), float(row["end"])\n'
        'if end <= start:\n'
        '    raise ValueError(f"end {end} is not after start {start}")\n'
        'return {"type": "interval", "name": "segment", "start": start, "end": end}, {}',
        _q("When does the main event happen in this video?", "At what time does the action take place?",
           "Give the start and end times of the main event.", "From when to when does the activity last?",
           "During which seconds does the key moment happen?", "Locate the main action in time.",
           "When does it begin and when does it end?", "Which part of the video shows the event?",
           "Tell me when the activity happens, in seconds.", "Find the segment that contains the action.")),
    "sequence": LabelKind(
        ("steps",), "clips/a.mp4,crack eggs;whisk;fry",
        '# The steps in order, separated by ";" in this CSV.\n'
        'steps = [s.strip() for s in row["steps"].split(";") if s.strip()]\n'
        'return {"type": "sequence", "name": "steps", "value": steps}, {}',
        _q("What happens in this video, step by step?", "List the steps shown in the clip, in order.",
           "In which order do things happen in this video?", "Describe the sequence of actions in the clip.",
           "What are the stages of the activity, from first to last?", "Name the steps in the order they occur.",
           "What is done first, next and last in this video?", "Give the order of events in the clip.",
           "Which actions follow one another in this video?", "Walk through the video's steps in order.")),
    "choice": LabelKind(
        ("options", "answer"), "clips/a.mp4,a dog;a cat;a bird,a cat",
        '# Options separated by ";"; the answer is one of them. The question shows them ({options}).\n'
        'options = [o.strip() for o in row["options"].split(";") if o.strip()]\n'
        'if row["answer"] not in options:\n'
        '    raise ValueError(f"answer {row[\'answer\']!r} is not one of the options {options}")\n'
        'shown = " ".join(f"{chr(65 + i)}. {o}." for i, o in enumerate(options))\n'
        'return ({"type": "choice", "name": "answer", "options": options, "correct": options.index(row["answer"])},\n'
        '        {"options": shown})',
        _q("Which of these does the video show? {options}", "Choose the option that fits the clip. {options}",
           "What can be seen in this video? {options}", "Pick the right answer for this clip: {options}",
           "Which option describes the video? {options}", "Watch the video and choose: {options}",
           "Select what the clip shows. {options}", "Which is correct for this video? {options}",
           "From these options, which matches the video? {options}", "Answer with one option. {options}")),
    "boolean": LabelKind(
        ("answer",), "clips/a.mp4,yes",
        '# yes/no (true/false, 1/0) in this CSV. Write the question the answer refers to.\n'
        'text = row["answer"].strip().lower()\n'
        'if text not in ("yes", "no", "true", "false", "1", "0"):\n'
        '    raise ValueError(f"answer {row[\'answer\']!r} is not yes or no")\n'
        'return {"type": "boolean", "name": "answer", "value": text in ("yes", "true", "1")}, {}',
        _q("Does the event happen in this video?", "Is the action shown in the clip?",
           "Can you see it happen in this video?", "Does the clip show the activity?",
           "Is it visible at any point in the video?", "Does the person in the video do it?",
           "Watch the clip: does it take place?", "Is this what happens in the video?",
           "Does the video contain the event?", "Answer yes or no: is it shown in the clip?")),
    "text": LabelKind(
        ("caption",), "clips/a.mp4,A man flips a pancake in a pan.",
        '# Answers must say this in their own words (MiniLM similarity; optional "min_similarity").\n'
        'return {"type": "text", "name": "caption", "value": row["caption"]}, {}',
        _q("Describe what happens in this video.", "What does the clip show? Describe it in a sentence.",
           "Tell me what takes place in the video.", "Summarise the video in one sentence.",
           "What is going on in this clip?", "Give a short description of the video.",
           "Explain what you see in the clip.", "What is the video about?",
           "Describe the main event of the clip.", "In one sentence, what happens here?")),
    "bbox": LabelKind(
        ("x1", "y1", "x2", "y2", "time"), "clips/a.mp4,10,20,110,140,3.5",
        '# A box in pixels (x1, y1, x2, y2) at `time` seconds. Optional "min_iou" (default: the\n'
        '# profile\'s, 0.5); the question should say which object and when ({time}).\n'
        'box = [float(row[k]) for k in ("x1", "y1", "x2", "y2")]\n'
        'time = float(row["time"])\n'
        'return ({"type": "bbox", "name": "box", "box": box, "frame_time": time, "coords": "pixels"},\n'
        '        {"time": f"{time:g} seconds"})',
        _q("Where is the main object at {time}?", "Give the bounding box of the object at {time}.",
           "At {time}, where in the frame is the object?", "Locate the object at {time} as x1, y1, x2, y2.",
           "Which region holds the object at {time}?", "Draw a box around the object at {time}.",
           "At {time}, what are the object's box coordinates?", "Point out the object at {time} with a box.",
           "Where does the object appear at {time}?", "Find the object at {time} and give its box.")),
    "timestamp": LabelKind(
        ("time",), "clips/a.mp4,7.5",
        '# Seconds from the video\'s start. Optional "abs_tol" (default 1.0 s).\n'
        'return {"type": "timestamp", "name": "moment", "value": float(row["time"])}, {}',
        _q("At what moment does the key event happen?", "When exactly does it happen, in seconds?",
           "At which second does the action occur?", "Give the time of the main event.",
           "When does the moment of interest come?", "At what time in the video does it happen?",
           "Name the second at which the event takes place.", "When is the key moment in this clip?",
           "At what point in the video does it occur?", "Tell me the time of the event in seconds.")),
}
