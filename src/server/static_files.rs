//! Static files from `--static-dir`: safe path resolution (no traversal in any encoding,
//! no symlink escape), content types by extension, `/` → `index.html`.
