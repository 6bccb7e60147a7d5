import ArgumentParser
import LoligoPlacement

/// `loligo crush test`: crushtool's `--test` with the same options and output lines.
struct CrushTestCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "test",
    abstract: "Map a range of inputs through rules, like `crushtool -i MAP --test`.",
    discussion: """
      Options mean what they mean to crushtool, so a crushtool command line works after \
      `loligo crush test` unchanged (a stray --test is accepted). Output lines match \
      crushtool's: `CRUSH rule R x X [a,b,c]` for --show-mappings, `bad mapping rule R x X \
      num_rep N result [...]`, and the --show-statistics / --show-utilization summaries.

      Inputs: every x in --min-x..--max-x (or just --x); a negative bound means 0..1023, as in \
      crushtool. With --pool-id P the CRUSH input is rjenkins hash2(x, P), what an OSD map \
      uses for placement seed x of pool P (hashpspool). Replica counts: --num-rep, or \
      --min-rep..--max-rep, or each rule's min_size..max_size. Device weights start at 1 for \
      devices in the hierarchy (0 otherwise); --weight DEV W (0..1) overrides, repeatable.

      Example:
        loligo crush test -i map.txt --rule 0 --num-rep 3 --min-x 0 \\
          --max-x 1023 --weight 7 0 --pool-id 1 --show-mappings
      """
  )

  @Option(
    name: [.customShort("i"), .customLong("infn")],
    help: ArgumentHelp("The CRUSH map (text or binary).", valueName: "map"))
  var input: String

  @Flag(name: .customLong("test"), help: .hidden)
  var testFlag = false

  @Option(name: .customLong("rule"), help: "Test only this rule id.")
  var rule: Int?

  @Option(name: [.customLong("min-rule"), .customLong("min_rule")], help: "First rule id.")
  var minRule: Int?

  @Option(name: [.customLong("max-rule"), .customLong("max_rule")], help: "Last rule id.")
  var maxRule: Int?

  @Option(name: .customLong("ruleset"), help: "Only rules with this ruleset (= rule id).")
  var ruleset: Int?

  @Option(
    name: [.customLong("num-rep"), .customLong("num_rep")],
    help: "Replica count (result_max) to ask for.")
  var numRep: Int?

  @Option(name: [.customLong("min-rep"), .customLong("min_rep")], help: "Smallest replica count.")
  var minRep: Int?

  @Option(name: [.customLong("max-rep"), .customLong("max_rep")], help: "Largest replica count.")
  var maxRep: Int?

  @Option(
    name: [.customLong("min-x"), .customLong("min_x")], parsing: .unconditional,
    help: "First input x.")
  var minX: Int64?

  @Option(
    name: [.customLong("max-x"), .customLong("max_x")], parsing: .unconditional,
    help: "Last input x.")
  var maxX: Int64?

  @Option(name: .customLong("x"), parsing: .unconditional, help: "A single input x.")
  var x: Int64?

  @Option(
    name: [.customLong("weight"), .customShort("w")], parsing: .upToNextOption,
    help: ArgumentHelp(
      "Reweight a device: --weight DEV W with W in 0..1 (repeatable).", valueName: "dev w"))
  var weight: [String] = []

  @Option(
    name: [.customLong("pool-id"), .customLong("pool_id")],
    help: "Hash each x with this pool id first, as an OSD map does.")
  var poolID: Int64?

  @Option(name: .customLong("batches"), help: "Accepted for compatibility; output is the same.")
  var batches: Int?

  @Flag(
    name: [.customLong("show-mappings"), .customLong("show_mappings")], help: "Print every mapping."
  )
  var showMappings = false

  @Flag(
    name: [.customLong("show-bad-mappings"), .customLong("show_bad_mappings")],
    help: "Print mappings with fewer items than asked for.")
  var showBadMappings = false

  @Flag(
    name: [.customLong("show-statistics"), .customLong("show_statistics")],
    help: "Print result-size statistics per rule and replica count.")
  var showStatistics = false

  @Flag(
    name: [.customLong("show-utilization"), .customLong("show_utilization")],
    help: "Print per-device counts (implies --show-statistics).")
  var showUtilization = false

  @Flag(
    name: [.customLong("show-utilization-all"), .customLong("show_utilization_all")],
    help: "Like --show-utilization, including devices with no weight.")
  var showUtilizationAll = false

  func run() throws {
    guard
      showMappings || showBadMappings || showStatistics || showUtilization
        || showUtilizationAll
    else {
      throw PlacementCLI.failure("no output selected; use --show-mappings or another --show-X")
    }
    guard weight.count % 2 == 0 else {
      throw PlacementCLI.failure("--weight needs a device id and a weight")
    }
    let map = try PlacementCLI.loadCrushMap(input)
    var tester = CrushTester(map: map)
    for index in stride(from: 0, to: weight.count, by: 2) {
      guard let device = Int32(weight[index]) else {
        throw PlacementCLI.failure("--weight: '\(weight[index])' is not a device id")
      }
      tester.deviceWeights[device] = CrushTester.reweight(fromText: weight[index + 1])
    }
    for (name, value) in [("--min-x", minX), ("--max-x", maxX), ("--x", x)] {
      if let value, value > Int64(UInt32.max) {
        throw PlacementCLI.failure("\(name) \(value) is larger than 2^32-1")
      }
    }
    if let x {
      tester.minX = x
      tester.maxX = x
    } else {
      tester.minX = minX ?? -1
      tester.maxX = maxX ?? -1
    }
    if let rule {
      tester.minRule = rule
      tester.maxRule = rule
    } else {
      tester.minRule = minRule ?? -1
      tester.maxRule = maxRule ?? -1
    }
    tester.ruleset = ruleset ?? -1
    if let numRep {
      guard numRep <= CrushMapper.maximumResult else {
        throw PlacementCLI.failure("--num-rep \(numRep) exceeds \(CrushMapper.maximumResult)")
      }
      tester.minReplicas = numRep
      tester.maxReplicas = numRep
    } else {
      tester.minReplicas = minRep ?? -1
      tester.maxReplicas = maxRep ?? -1
    }
    tester.poolID = poolID
    tester.showMappings = showMappings
    tester.showBadMappings = showBadMappings
    tester.showUtilization = showUtilization
    tester.showUtilizationAll = showUtilizationAll
    tester.showStatistics = showStatistics || showUtilization || showUtilizationAll
    var output = OutputBuffer()
    tester.run { output.line($0) }
    output.flush()
  }
}
