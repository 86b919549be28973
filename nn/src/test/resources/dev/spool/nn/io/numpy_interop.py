"""The numpy side of NumpyInteropTest: reads what Spool wrote and writes what Spool must read.

Usage: python3 numpy_interop.py DIR
  reads  DIR/from_java.npz, DIR/from_java_f32.npy and DIR/model.npz (written by Spool),
  checks every array against the same formulas the Java test used,
  computes the model's forward pass with numpy on DIR/x.npy into DIR/numpy_forward.npy,
  and writes DIR/from_numpy.npz, DIR/from_numpy_compressed.npz, DIR/big_endian.npy,
  DIR/fortran.npy, DIR/object.npy for Spool to read.
Prints "ok" and exits 0 when every check passes; raises (exit 1) otherwise.
"""
import sys
import numpy as np


def expected():
    i = np.arange(12)
    return {
        "f32": (i.astype(np.float32) / np.float32(8) - np.float32(0.5)).reshape(3, 4),
        "f64": (np.arange(6, dtype=np.float64) * np.pi).reshape(2, 3),
        "i32": (np.arange(5, dtype=np.int32) * np.int32(-1000003)),
        "i64": np.arange(4, dtype=np.int64) * np.int64(1 << 40) - np.int64(7),
        "b": (np.arange(7) % 3 == 0),
        "scalar": np.array(2.5, dtype=np.float32),
        "layer/kernel": np.zeros((0, 2), dtype=np.float32),
    }


def check_equal(name, got, want):
    if got.dtype != want.dtype:
        raise AssertionError(f"{name}: dtype {got.dtype} != {want.dtype}")
    if got.shape != want.shape:
        raise AssertionError(f"{name}: shape {got.shape} != {want.shape}")
    if not np.array_equal(got, want):
        raise AssertionError(f"{name}: values {got!r} != {want!r}")


def main(d):
    want = expected()
    with np.load(f"{d}/from_java.npz") as z:
        if sorted(z.files) != sorted(want):
            raise AssertionError(f"keys {sorted(z.files)} != {sorted(want)}")
        for k, v in want.items():
            check_equal(k, z[k], v)
    check_equal("from_java_f32.npy", np.load(f"{d}/from_java_f32.npy"), want["f32"])

    # The model checkpoint, opened by variable name: the forward pass in numpy.
    with np.load(f"{d}/model.npz") as m:
        x = np.load(f"{d}/x.npy")
        h = np.maximum(x @ m["dense/kernel"] + m["dense/bias"], 0)
        y = h @ m["dense_1/kernel"] + m["dense_1/bias"]
        np.save(f"{d}/numpy_forward.npy", y.astype(np.float32))

    out = {k: v for k, v in want.items()}
    out["f64"] = out["f64"] + 1  # something Spool did not write, to show numpy's values arrive
    np.savez(f"{d}/from_numpy.npz", **out)
    np.savez_compressed(f"{d}/from_numpy_compressed.npz", **out)
    np.save(f"{d}/big_endian.npy", want["f32"].astype(">f4"))
    np.save(f"{d}/fortran.npy", np.asfortranarray(want["f64"]))
    np.save(f"{d}/object.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    np.save(f"{d}/uint8.npy", np.arange(3, dtype=np.uint8))
    print("ok", np.__version__)


if __name__ == "__main__":
    main(sys.argv[1])
