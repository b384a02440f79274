# cmake --install: what goes where, and what finds what once installed.
# Included by CMakeLists.txt after the targets are defined.
#
# Two layouts:
# - the usual prefix (cmake --install build --prefix P): bin/reel,
#   lib/libreel.so and libreel.a, include/reel.h, lib/pkgconfig/reel.pc, the
#   CUDA plugin, the model definitions and bash completion;
# - the Python package (pip install ./python, which builds through
#   scikit-build-core and sets SKBUILD): libreel.so, and the CUDA plugin when
#   built, inside the package folder, nothing else.

# Installed binaries find their libraries without LD_LIBRARY_PATH: libreel.so
# looks beside itself ($ORIGIN), the program in its lib folder, and both keep
# the folders of dependencies found outside the system's (a dpkg -x prefix).
set_target_properties(reelshared PROPERTIES INSTALL_RPATH "$ORIGIN" INSTALL_RPATH_USE_LINK_PATH ON)
set_target_properties(reel PROPERTIES INSTALL_RPATH "$ORIGIN/${REEL_BIN_TO_LIB}" INSTALL_RPATH_USE_LINK_PATH ON)

if(SKBUILD)
  # One file, named as the package's loader looks for it (no SONAME links:
  # a wheel cannot hold symbolic links, it would copy the library three times).
  set_property(TARGET reelshared PROPERTY VERSION)
  set_property(TARGET reelshared PROPERTY SOVERSION)
  install(TARGETS reelshared LIBRARY DESTINATION .)
  if(REEL_HAVE_CUDA)
    install(TARGETS reelcuda LIBRARY DESTINATION .)
  endif()
  return()
endif()

# reel.pc's Libs.private: what a static link of libreel.a needs, from the
# libraries this build linked (OpenCL and MPI only when built in). A library
# outside the linker's default folders gets its -L and a run path.
set(REEL_PC_PRIVATE "")
function(reel_pc_add lib)
  if(lib MATCHES "^-")
    list(APPEND REEL_PC_PRIVATE "${lib}")
  elseif(IS_ABSOLUTE "${lib}")
    get_filename_component(dir "${lib}" DIRECTORY)
    get_filename_component(name "${lib}" NAME_WE)
    string(REGEX REPLACE "^lib" "" name "${name}")
    if(NOT dir IN_LIST CMAKE_C_IMPLICIT_LINK_DIRECTORIES)
      list(APPEND REEL_PC_PRIVATE "-L${dir}" "-Wl,-rpath,${dir}")
    endif()
    list(APPEND REEL_PC_PRIVATE "-l${name}")
  elseif(lib)
    list(APPEND REEL_PC_PRIVATE "-l${lib}")
  endif()
  set(REEL_PC_PRIVATE "${REEL_PC_PRIVATE}" PARENT_SCOPE)
endfunction()
set(REEL_PC_LIBS ${CJSON_LIB} ${LAPACKE_LIB} ${OPENBLAS_LIB})
if(REEL_HAVE_OPENCL)
  list(APPEND REEL_PC_LIBS ${OpenCL_LIBRARIES})
endif()
if(REEL_HAVE_MPI)
  list(APPEND REEL_PC_LIBS ${MPI_C_LIBRARIES})
endif()
if(REEL_HAVE_CUDA)
  list(APPEND REEL_PC_LIBS ${CMAKE_DL_LIBS})
endif()
list(APPEND REEL_PC_LIBS ${OpenMP_C_FLAGS} ${MATH_LIB} ${CMAKE_THREAD_LIBS_INIT})
foreach(lib IN LISTS REEL_PC_LIBS)
  reel_pc_add("${lib}")
endforeach()
list(REMOVE_DUPLICATES REEL_PC_PRIVATE)
string(REPLACE ";" " " REEL_PC_PRIVATE "${REEL_PC_PRIVATE}")

file(RELATIVE_PATH REEL_PC_TO_PREFIX ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
configure_file(${CMAKE_SOURCE_DIR}/scripts/reel.pc.in ${CMAKE_BINARY_DIR}/reel.pc @ONLY)
install(TARGETS reel reelshared reelcore
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        PUBLIC_HEADER DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${CMAKE_BINARY_DIR}/reel.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
# bash completion, where bash-completion looks for it under the prefix
install(FILES ${CMAKE_SOURCE_DIR}/scripts/reel-completion.bash DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
        RENAME reel)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/models/ DESTINATION ${CMAKE_INSTALL_DATADIR}/reel/models
        FILES_MATCHING PATTERN "*.json")
if(REEL_HAVE_CUDA)
  install(TARGETS reelcuda LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
endif()
