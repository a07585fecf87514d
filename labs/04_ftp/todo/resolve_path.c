/* TODO (part 2, jail): add `name`, component by component, to `out`,
 * which holds the current directory (`len` bytes, "" for the top).
 *   Components are separated by '/'. For each one:
 *   - "" (from "a//b" or a trailing '/') and ".": nothing to add.
 *   - "..": drop out's last component and the '/' before it, like a
 *     shell's `cd ..`. At the top (len 0) there is nothing to drop:
 *     return "outside the served directory". This is the lesson: the
 *     text alone must never climb above the top, however it is spelled
 *     ("sub/../../x" too).
 *   - a name starting with PARTIAL_PREFIX (".partial."): return
 *     "names starting with " PARTIAL_PREFIX " are reserved".
 *   - any other name: append '/' (unless len is 0) and the name. If
 *     that, and the NUL, would not fit in out_size bytes, return
 *     "name too long".
 *   Keep out NUL-terminated: once the whole name is in, the code
 *   below returns NULL.
 * The stub below takes the name as it comes, ".." and all: the source
 * article's server, which opened whatever it was given. */
size_t part = strlen(name);
if (len + (len > 0) + part >= out_size)
    return "name too long";
if (len > 0)
    out[len++] = '/';
memcpy(out + len, name, part + 1);
