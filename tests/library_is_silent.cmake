# The library layers never print: messages go to the log sink (util/log.h).
# Fails naming each file and line under host/ (but cli/ and main.c) that
# writes to stdout or stderr. Run by CTest as library_is_silent.
file(GLOB_RECURSE sources ${SRC}/host/*.c ${SRC}/host/*.h ${SRC}/kernels/*.cu)
list(FILTER sources EXCLUDE REGEX "/host/cli/|/host/main\\.c$")
set(found "")
foreach(f ${sources})
  file(STRINGS ${f} lines REGEX "stderr|stdout|(^|[^a-z_])(printf|puts|putchar|perror)\\(")
  foreach(l ${lines})
    string(STRIP "${l}" l)
    string(APPEND found "\n  ${f}: ${l}")
  endforeach()
endforeach()
if(found)
  message(FATAL_ERROR "the library writes to stdout/stderr (use util/log.h):${found}")
endif()
