# Hash the web users' passwords with bcrypt, on the host, with the system's
# libcrypt (libxcrypt: every Debian has it; no Python package needed). Input on
# stdin (never on a command line): {"users": {name: password},
# "current": {name: hash in the live web config}, "cost": 10}. A current hash
# that still matches its password is kept, so a run with unchanged passwords
# changes nothing; a new or changed password gets a new random salt.
# Output: {name: hash}.
import ctypes
import ctypes.util
import json
import sys

lib = ctypes.CDLL(ctypes.util.find_library("crypt") or "libcrypt.so.1")
lib.crypt.restype = ctypes.c_char_p
lib.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
lib.crypt_gensalt.restype = ctypes.c_char_p
lib.crypt_gensalt.argtypes = [ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p, ctypes.c_int]

request = json.load(sys.stdin)
out = {}
for name, password in sorted(request["users"].items()):
    secret = password.encode()
    current = (request["current"].get(name) or "").encode()
    if current.startswith(b"$2") and lib.crypt(secret, current) == current:
        out[name] = current.decode()
        continue
    setting = lib.crypt_gensalt(b"$2b$", int(request["cost"]), None, 0)
    hashed = lib.crypt(secret, setting) if setting else None
    if not hashed or not hashed.startswith(b"$2b$"):
        sys.exit("libcrypt on this host cannot make bcrypt hashes")
    out[name] = hashed.decode()
print(json.dumps(out))
