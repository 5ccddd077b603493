"""Derive captions.tsv.gz from the three JSON files of Arabic_Flickr30K_Annotations.rar.

The RAR (sha256 ebc4d6ad...671c, GitHub ahmedfathy-hub/Flickr30K_Arabic_Annotations @ 3261cad4ed)
was extracted with ``bsdtar -xf`` into Arabic_{train,val,test}.json; Python cannot read RAR. This
script (standard library only) writes one row per caption, in file order:
``split<TAB>image<TAB>caption`` with image = the Flickr30k file stem (e.g. 1000092795) and the
caption text unchanged except that tabs and newlines (none occur) would be refused. gzip with
mtime 0, so the output is byte-reproducible. Usage: python derive.py <folder with the JSON files>
"""
import gzip
import json
import sys
from pathlib import Path

src = Path(sys.argv[1])
rows = []
for split in ("train", "val", "test"):
    for item in json.loads((src / f"Arabic_{split}.json").read_text(encoding="utf-8")):
        image = Path(item["image"]).stem
        captions = item["caption"] if isinstance(item["caption"], list) else [item["caption"]]
        for caption in captions:
            if "\t" in caption or "\n" in caption or "\r" in caption:
                raise SystemExit(f"{split} {image}: caption with a tab or newline: {caption!r}")
            rows.append(f"{split}\t{image}\t{caption}\n")
out = Path(__file__).with_name("captions.tsv.gz")
with open(out, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as f:
    f.write(("split\timage\tcaption\n" + "".join(rows)).encode("utf-8"))
print(f"{out}: {len(rows)} captions")
