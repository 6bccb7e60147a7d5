import ArgumentParser

/// `loligo crush`: CRUSH maps in Ceph's formats. Every subcommand reads either the decompiled
/// text (`crushtool -d` output) or Ceph's binary map, detected from the file contents.
struct CrushCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "crush",
    abstract: "CRUSH maps: test, build, compile, decompile.",
    discussion: """
      Maps are read as Ceph binary (crushtool -o / -c output) or as decompiled text \
      (crushtool -d output); placements are bit-for-bit those of Ceph 16.2.

      Examples:
        loligo crush test -i map.txt --rule 0 --num-rep 3 --min-x 0 \\
          --max-x 1023 --show-mappings
        loligo crush build --num-osds 12 host straw2 3 root straw2 0 -o map.bin
        loligo crush compile map.txt -o map.bin
        loligo crush decompile map.bin -o map.txt
      """,
    subcommands: [
      CrushTestCommand.self, CrushBuildCommand.self, CrushCompileCommand.self,
      CrushDecompileCommand.self,
    ]
  )
}
