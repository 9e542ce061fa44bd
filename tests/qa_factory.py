"""Small STAR and TempCompass-style annotation sets, written in exactly the shapes of the real
files (STAR_val.json + class files + video_fps pickle; questions/*.json + meta_info.json)."""
from __future__ import annotations

import json
import pickle
from pathlib import Path

STAR_CLASSES = {
    "action_classes.txt": ["a000 hold some clothes", "a001 put clothes somewhere", "a002 take some clothes from somewhere",
                           "a012 hold a bag", "a013 put a bag somewhere"],
    "object_classes.txt": ["o000 person", "o001 broom", "o002 picture", "o003 closet/cabinet", "o014 bag",
                           "o019 clothes"],
    "verb_classes.txt": ["v000 close", "v004 hold", "v007 put"],
    "relationship_classes.txt": ["r000 on", "r001 behind", "r002 in_front_of", "r012 holding"],
    "action_mapping.txt": ["a000 v004 o019", "a001 v007 o019", "a002 v010 o019", "a012 v004 o014", "a013 v007 o014"],
}
FPS = {"6H78U.mp4": 24.0, "YSE1G.mp4": 30.0}


def _choices(texts: list[str]) -> list[dict]:
    return [{"choice_id": i, "choice": t, "choice_program": [{"function": "Equal", "value_input": [t]}]}
            for i, t in enumerate(texts)]


def _situation(actions: list[str], boxes: list, labels: list[str]) -> dict:
    return {"rel_pairs": [["o000", lab] for lab in labels], "rel_labels": ["r012"] * len(labels),
            "actions": actions, "bbox": boxes, "bbox_labels": labels}


def star_questions() -> list[dict]:
    """Five valid STAR questions (one per type, two videos) and two bad ones."""
    prog = [{"function": "Situations", "value_input": []}, {"function": "Actions", "value_input": []}]
    return [
        {"question_id": "Interaction_T1_13", "question": "Which object was put down by the person?",
         "answer": "The clothes.", "choices": _choices(["The clothes.", "The bag.", "The broom.", "The picture."]),
         "question_program": prog, "video_id": "6H78U", "start": 11.1, "end": 19.6,
         "situations": {"000270": _situation(["a001"], [[100.5, 50.0, 220.0, 190.0]], ["o019"]),
                        "000330": _situation(["a001", "a000"], [[102.0, 51.0, 221.0, 188.0], [5.0, 5.0, 60.0, 90.0]],
                                             ["o019", "o014"]),
                        "000400": _situation(["a001"], [[99.0, 52.0, 219.0, 191.0]], ["o019"])}},
        {"question_id": "Sequence_T1_7", "question": "What did the person do after holding the bag?",
         "answer": "Put down the bag.", "choices": _choices(["Took the clothes.", "Put down the bag.",
                                                             "Held the broom.", "Opened the closet."]),
         "question_program": prog, "video_id": "6H78U", "start": 2.0, "end": 9.5,
         "situations": {"000060": _situation(["a012"], [[10.0, 20.0, 80.0, 140.0]], ["o014"]),
                        "000150": _situation(["a013", "a012"], [[12.0, 22.0, 82.0, 141.0]], ["o014"])}},
        {"question_id": "Prediction_T3_42", "question": "What will the person do next with the clothes?",
         "answer": "Take.", "choices": _choices(["Take.", "Throw.", "Wash.", "Put down."]),
         "question_program": prog, "video_id": "YSE1G", "start": 0.0, "end": 6.4,
         "situations": {"000031": _situation(["a002"], [[30.0, 40.0, 130.0, 200.0], [31.0, 41.0, 129.0, 199.0]],
                                             ["o019", "o019"])}},       # two boxes of one object: no where-question
        {"question_id": "Feasibility_T5_3", "question": "Which object is the person able to put down?",
         "answer": "The bag.", "choices": _choices(["The picture.", "The broom.", "The bag.", "The closet."]),
         "question_program": prog, "video_id": "YSE1G", "start": 1.0, "end": 8.0,
         "situations": {"000061": _situation(["a013"], [[200.0, 100.0, 300.0, 220.0]], ["o014"])}},
        {"question_id": "Interaction_T2_8", "question": "What did the person hold?",
         "answer": "The bag.", "choices": _choices(["The bag.", "The clothes.", "The broom.", "The picture."]),
         "question_program": prog, "video_id": "YSE1G", "start": 1.0, "end": 8.0,     # same window and action as above
         "situations": {"000061": _situation(["a013"], [[200.0, 100.0, 300.0, 220.0]], ["o014"])}},
        {"question_id": "Interaction_T1_99", "question": "What did the person take?", "answer": "A cup.",
         "choices": _choices(["The bag.", "The clothes."]), "question_program": prog, "video_id": "6H78U",
         "start": 1.0, "end": 3.0, "situations": {}},                               # answer not among choices
        {"question_id": "Interaction_T1_100", "question": "What did the person take?", "answer": "The bag.",
         "choices": _choices(["The bag.", "The clothes."]), "question_program": prog, "video_id": "../etc",
         "start": 1.0, "end": 3.0, "situations": {}},                               # path escape attempt
    ]


def write_star(root: Path, *, questions: list[dict] | None = None, classes: bool = True,
               name: str = "STAR_val.json") -> Path:
    """STAR_val.json plus STAR_classes/ (class files and the video_fps pickle) under `root`."""
    root.mkdir(parents=True, exist_ok=True)
    path = root / name
    path.write_text(json.dumps(star_questions() if questions is None else questions), "utf-8")
    if classes:
        cdir = root / "STAR_classes"
        cdir.mkdir(exist_ok=True)
        for fname, lines in STAR_CLASSES.items():
            (cdir / fname).write_text("\n".join(lines) + "\n", "utf-8")
        (cdir / "video_fps").write_bytes(pickle.dumps(FPS, protocol=2))
    return path


MC = {"1034419625": {
    "action": [
        {"question": "What is the man doing in the video?\nA. dunking a basketball\nB. dribbling a basketball\n"
                     "C. passing a basketball", "answer": "A. dunking a basketball"},
        {"question": "Which activity is the man engaged in?\nA. passing a basketball\nB. dribbling a basketball\n"
                     "C. dunking a basketball", "answer": "C. dunking a basketball"}],
    "direction": [
        {"question": "What is the direction of the man?\nA. moving towards the camera\nB. moving from left to right\n"
                     "C. moving away from the camera", "answer": "B. moving from left to right"}]},
    "1034419625_reverse": {"direction": [
        {"question": "What is the direction of the man?\nA. moving towards the camera\nB. moving from right to left\n"
                     "C. moving away from the camera\nD. moving from left to right",
         "answer": "B. moving from right to left"}]},
    "2222": {"speed": [
        {"question": "How fast does the car move?\nA. slow motion\nB. normal speed\nC. time-lapse",
         "answer": "C. time-lapse"},
        {"question": "What is the speed?", "answer": "A. fast"},                    # no options: located skip
        "not an object"]}}                                                         # malformed entry
YES_NO = {"1034419625": {"action": [{"question": "Is the man dunking?", "answer": "yes"},
                                    {"question": "Is the man dribbling a basketball?", "answer": "no"}]},
          "2222": {"speed": [{"question": "Is the video played in slow motion?", "answer": "maybe"}]}}
CAPTION_MATCHING = {"1034419625": {"action": [
    {"question": "Which description is a more suitable match for the video?\nOption 1: The man is dribbling a "
                 "basketball.\nOption 2: A man is dunking a basketball.",
     "answer": "Option 2: A man is dunking a basketball."},
    {"question": "Which sentence better captures the essence of the video?\nSentence A: A man is dunking a "
                 "basketball.\nSentence B: A video showing a person passing a basketball.",
     "answer": "Sentence A: A man is dunking a basketball."},
    {"question": "Which caption matches the video better?\nCaption A: A man is dunking a basketball.\nCaption B: "
                 "The man is shooting a basketball.", "answer": "Caption A: A man is dunking a basketball."}]},
    "2222": {"order": [{"question": "Which caption matches the video better?\nCaption A: The car stops, then "
                                    "starts.\nCaption B: The car starts, then stops.",
                        "answer": "Caption B: The car starts, then stops."}]}}
CAPTIONING = {"1034419625": {"action": [
    {"question": "You will be presented with a video and several pieces of information. One piece of information "
                 "is consistent with the video while the others are not. Please identify the information that "
                 "consistent with the video and generate a video caption accordingly.\n"
                 "Information A: {'subject': 'man', 'action': 'dribbling a basketball'}\n"
                 "Information B: {'subject': 'man', 'action': 'dunking a basketball'}\n"
                 "Information C: {'subject': 'man', 'action': 'passing a basketball'}\nGenerated Caption:",
     "answer": "B. dunking a basketball"}]},
    "2222": {"attribute_change": [
        {"question": "Please generate a caption.\nInformation A: {'subject': 'light', 'attribute_change': "
                     "'turning brighter'}\nInformation B: {'subject': 'light', 'attribute_change': 'turning darker'}"
                     "\nGenerated Caption:", "answer": "B. turning darker"}],
        "tempo": [{"question": "x", "answer": "y"}]}}                                # unknown dimension
META = {"1034419625": {"eval_dim": {"action": {"subject": "man", "action": "dunking", "type": "fine-grained action"},
                                    "speed": None, "direction": {"subject": "man", "direction": "moving from left to right",
                                                                 "type": "object motion"},
                                    "order": None, "attribute_change": None}, "content": ["people"]},
        "1034419625_reverse": {"eval_dim": {"action": None, "speed": None, "direction": {"subject": "man"},
                                            "order": None, "attribute_change": None}, "content": ["people"]},
        "2222": {"eval_dim": {"action": None, "speed": {"subject": "car"}, "direction": None, "order": {"x": 1},
                              "attribute_change": {"subject": "light"}}, "content": ["vehicle"]}}
TEMPCOMPASS = {"multi-choice": MC, "yes_no": YES_NO, "caption_matching": CAPTION_MATCHING, "captioning": CAPTIONING}
# the located skips the files above hold: 2222 speed (no options, malformed), yes_no "maybe", tempo
TEMPCOMPASS_SKIPS = {"no_options": 1, "malformed_entry": 1, "bad_yes_no_answer": 1, "unknown_dimension": 1}


def write_tempcompass(root: Path, *, clean: bool = False) -> Path:
    """The benchmark's layout: root/questions/<format>.json and root/meta_info.json."""
    qdir = root / "questions"
    qdir.mkdir(parents=True, exist_ok=True)
    for fmt, data in TEMPCOMPASS.items():
        if clean:
            data = {v: {d: [i for i in items if isinstance(i, dict) and i["answer"] not in ("A. fast", "maybe", "y")]
                        for d, items in dims.items() if d != "tempo"} for v, dims in data.items()}
        (qdir / f"{fmt}.json").write_text(json.dumps(data, indent=4), "utf-8")
    (root / "meta_info.json").write_text(json.dumps(META), "utf-8")
    return root
