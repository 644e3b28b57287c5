# cannery_layer(<name> SOURCES <src>... [PUBLIC <dep>...] [PRIVATE <dep>...])
#
# One layer library, as every layer folder has it: target cannery_<name>
# (alias and exported name cannery::<name>), public headers in
# <folder>/include, warnings as errors, installed and exported.
function(cannery_layer name)
  cmake_parse_arguments(PARSE_ARGV 1 layer "" "" "SOURCES;PUBLIC;PRIVATE")
  set(target cannery_${name})
  add_library(${target} ${layer_SOURCES})
  add_library(cannery::${name} ALIAS ${target})
  # Installed anywhere, a layer finds the layers it links in its own folder.
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${name} OUTPUT_NAME ${target}
                                             VERSION ${PROJECT_VERSION} INSTALL_RPATH "$ORIGIN")
  target_include_directories(${target} PUBLIC
    $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  target_link_libraries(${target} PUBLIC ${layer_PUBLIC} PRIVATE ${layer_PRIVATE})
  cannery_warnings(${target})
  install(TARGETS ${target} EXPORT CanneryTargets
          LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
          RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  install(DIRECTORY include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
endfunction()

# cannery_program(<name> <source> <dep>...): an installed command-line program.
function(cannery_program name source)
  add_executable(${name} ${source})
  # Installed to any prefix, a program finds the installed libraries next to
  # its bin folder; without this, an installed cannery-engine did not start.
  file(RELATIVE_PATH bin_to_lib ${CMAKE_INSTALL_FULL_BINDIR} ${CMAKE_INSTALL_FULL_LIBDIR})
  set_target_properties(${name} PROPERTIES INSTALL_RPATH "$ORIGIN/${bin_to_lib}")
  target_link_libraries(${name} PRIVATE ${ARGN})
  cannery_warnings(${name})
  install(TARGETS ${name} EXPORT CanneryTargets RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endfunction()
