-- A picture of a machine: orchestra.graph's DOT and Mermaid renderings,
-- Graphviz accepting them, history colouring, machine:graph and
-- `orchestra graph`.
local h = require "spec.helper"
local orchestra = require "orchestra"
local graph = require "orchestra.graph"
local json = orchestra.json

local function has(text, piece)
  assert(text:find(piece, 1, true), "expected to find\n  " .. piece .. "\nin\n" .. text)
end

local function lacks(text, piece)
  assert(not text:find(piece, 1, true), "did not expect\n  " .. piece .. "\nin\n" .. text)
end

local function dot(def, opts)
  opts = opts or {}
  opts.format = "dot"
  return graph.render(json.decode(def), opts)
end

local function mermaid(def, opts)
  opts = opts or {}
  opts.format = "mermaid"
  return graph.render(json.decode(def), opts)
end

local CHAIN = [[{"StartAt": "First", "States": {
  "Third": {"Type": "Succeed"},
  "Second": {"Type": "Wait", "Seconds": 10, "Next": "Third"},
  "First": {"Type": "Pass", "Next": "Second"},
  "Orphan": {"Type": "Pass", "End": true}
}}]]

local CHOICE = [[{"StartAt": "Route", "States": {
  "Route": {"Type": "Choice", "Choices": [
      {"Variable": "$.amount", "NumericGreaterThan": 100, "Next": "Big"},
      {"Variable": "$.kind", "StringEquals": "vip", "Next": "Vip"},
      {"And": [{"Variable": "$.x", "IsPresent": true},
               {"Not": {"Variable": "$.y", "IsNull": true}}], "Next": "Big"}],
    "Default": "Small"},
  "Big": {"Type": "Pass", "End": true},
  "Vip": {"Type": "Pass", "End": true},
  "Small": {"Type": "Fail", "Error": "TooSmall"}
}}]]

local TASK = [[{"StartAt": "Charge", "States": {
  "Charge": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:charge",
    "Retry": [{"ErrorEquals": ["States.TaskFailed"], "MaxAttempts": 3},
              {"ErrorEquals": ["States.Timeout", "Net.Down"], "MaxAttempts": 5}],
    "Catch": [{"ErrorEquals": ["Card.Declined"], "ResultPath": "$.error", "Next": "Declined"},
              {"ErrorEquals": ["States.ALL"], "Next": "Broken"}],
    "Next": "Done"},
  "Declined": {"Type": "Fail", "Error": "Declined"},
  "Broken": {"Type": "Fail", "Error": "Broken"},
  "Done": {"Type": "Succeed"}
}}]]

local PARALLEL = [[{"StartAt": "Both", "States": {
  "Both": {"Type": "Parallel", "Next": "After", "Branches": [
    {"StartAt": "Left", "States": {"Left": {"Type": "Pass", "End": true}}},
    {"StartAt": "Right", "States": {
      "Right": {"Type": "Task", "Resource": "arn:r", "Next": "Right done"},
      "Right done": {"Type": "Succeed"}}}]},
  "After": {"Type": "Pass", "End": true}
}}]]

local MAP = [[{"StartAt": "Orders", "States": {
  "Orders": {"Type": "Map", "ItemsPath": "$.orders", "End": true,
    "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Lines", "States": {
      "Lines": {"Type": "Map", "ItemsPath": "$.lines", "Next": "Total",
        "Iterator": {"StartAt": "Price", "States": {
          "Price": {"Type": "Task", "Resource": "arn:price", "End": true}}}},
      "Total": {"Type": "Pass", "End": true}}}}
}}]]

describe("orchestra.graph", function()
  describe("DOT", function()
    it("draws a chain: start, states with their types and shapes, Next, End", function()
      local g = dot(CHAIN)
      has(g, "digraph orchestra {")
      has(g, 'n_start [label="Start", shape=circle')
      has(g, 's_First [label="First\\nPass", shape=ellipse];')
      has(g, 's_Second [label="Second\\nWait 10s", shape=hexagon];')
      has(g, 's_Third [label="Third\\nSucceed", shape=doublecircle, color="#2e7d32"];')
      has(g, 'n_end [label="End", shape=circle')
      has(g, "n_start -> s_First;")
      has(g, "s_First -> s_Second;")
      has(g, "s_Second -> s_Third;")
      has(g, "s_Third -> n_end;")
      has(g, "s_Orphan -> n_end;")
      assert.matches("}\n$", g)
    end)

    it("orders states: StartAt, then breadth-first along transitions, then the rest sorted", function()
      local g = dot(CHAIN)
      local function at(id) return assert(g:find("  " .. id .. " [", 1, true), id) end
      assert.is_true(at("s_First") < at("s_Second"))
      assert.is_true(at("s_Second") < at("s_Third"))
      assert.is_true(at("s_Third") < at("s_Orphan"))
      assert.equal(g, dot(CHAIN))  -- the same every time
    end)

    it("labels Choice rules and Default", function()
      local g = dot(CHOICE)
      has(g, 's_Route [label="Route\\nChoice", shape=diamond];')
      has(g, 's_Route -> s_Big [label="$.amount > 100"];')
      has(g, 's_Route -> s_Vip [label="$.kind == \\"vip\\""];')
      has(g, 's_Route -> s_Big [label="And(IsPresent($.x), Not(IsNull($.y)))"];')
      has(g, 's_Route -> s_Small [label="Default"];')
      has(g, 's_Small [label="Small\\nFail\\nerror: TooSmall", shape=doubleoctagon, color="#c62828"];')
      lacks(g, "s_Small -> ")  -- a Fail state goes nowhere
    end)

    it("shows Retry in the Task's label and Catch as dashed edges", function()
      local g = dot(TASK)
      has(g, 's_Charge [label="Charge\\nTask\\nretry: States.TaskFailed x3'
        .. '\\nretry: States.Timeout, Net.Down x5", shape=box];')
      has(g, 's_Charge -> s_Done;')
      has(g, 's_Charge -> s_Declined [label="Card.Declined", style=dashed];')
      has(g, 's_Charge -> s_Broken [label="States.ALL", style=dashed];')
    end)

    it("draws a Parallel as a cluster with one sub-cluster per branch", function()
      local g = dot(PARALLEL)
      has(g, "subgraph cluster_s_Both {")
      has(g, 'label="Both";')
      has(g, 's_Both [label="Parallel", shape=parallelogram];')
      has(g, "subgraph cluster_b1_s_Both {")
      has(g, 'label="Branch 1";')
      has(g, "subgraph cluster_b2_s_Both {")
      has(g, 'label="Branch 2";')
      has(g, "s_Both -> s_Left;")
      has(g, "s_Both -> s_Right;")
      has(g, "s_Right -> s_Right_done;")
      has(g, "s_Left -> j_s_Both;")
      has(g, "s_Right_done -> j_s_Both;")
      has(g, "n_start -> s_Both [lhead=cluster_s_Both];")
      has(g, "j_s_Both -> s_After [ltail=cluster_s_Both];")
      has(g, "compound=true;")
      -- the branches' states are inside the branch clusters
      local b1 = g:match("subgraph cluster_b1_s_Both (%b{})")
      has(b1, "s_Left [")
      local b2 = g:match("subgraph cluster_b2_s_Both (%b{})")
      has(b2, "s_Right [")
      has(b2, "s_Right_done [")
    end)

    it("draws a Map inside a Map (ItemProcessor and the legacy Iterator)", function()
      local g = dot(MAP)
      local outer = g:match("subgraph cluster_s_Orders (%b{})")
      has(outer, 's_Orders [label="Map\\nitems: $.orders", shape=box3d];')
      has(outer, "subgraph cluster_s_Lines {")
      has(outer, 's_Total [label="Total\\nPass", shape=ellipse];')
      local inner = outer:match("subgraph cluster_s_Lines (%b{})")
      has(inner, 's_Lines [label="Map\\nitems: $.lines", shape=box3d];')
      has(inner, 's_Price [label="Price\\nTask", shape=box];')
      lacks(inner, "s_Total")
      has(g, "n_start -> s_Orders [lhead=cluster_s_Orders];")
      has(g, "s_Orders -> s_Lines [lhead=cluster_s_Lines];")
      has(g, "s_Lines -> s_Price;")
      has(g, "s_Price -> j_s_Lines;")
      has(g, "j_s_Lines -> s_Total [ltail=cluster_s_Lines];")
      has(g, "s_Total -> j_s_Orders;")
      has(g, "j_s_Orders -> n_end [ltail=cluster_s_Orders];")
    end)

    it("escapes labels and derives unique, safe ids from any name", function()
      local def = { StartAt = 'Say "hi"\\now' }
      def.States = {
        ['Say "hi"\\now'] = { Type = "Pass", Next = "a b" },
        ["a b"] = { Type = "Pass", Next = "a_b" },
        ["a_b"] = { Type = "Parallel", End = true, Branches = {
          { StartAt = "a b", States = { ["a b"] = { Type = "Pass", Next = "line\nbreak" },
            ["line\nbreak"] = { Type = "Succeed" } } } } },
      }
      local g = graph.render(def)
      has(g, 's_Say__hi__now [label="Say \\"hi\\"\\\\now\\nPass", shape=ellipse];')
      has(g, 's_a_b [label="a b\\nPass"')
      has(g, 's_a_b_2 [label="Parallel"')   -- the Parallel "a_b"
      has(g, 'label="a_b";')
      has(g, 's_a_b_3 [label="a b\\nPass"')  -- "a b" inside the branch
      has(g, 's_line_break [label="line\\nbreak\\nSucceed"')
      has(g, "s_Say__hi__now -> s_a_b;")
      has(g, "s_a_b -> s_a_b_2 [lhead=cluster_s_a_b_2];")
      has(g, "s_a_b_3 -> s_line_break;")
      for id in g:gmatch("\n%s*([^%s]+) %[") do
        assert.matches("^[%a_][%w_]*$", id)
      end
    end)

    it("draws a missing Next target as a dashed placeholder instead of failing", function()
      local g = dot('{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}}')
      has(g, 'm_Nowhere [label="Nowhere\\n(missing)", shape=box, style=dashed')
      has(g, "s_A -> m_Nowhere;")
    end)

    it("rejects what is not a definition or a format", function()
      assert.error_matches(function() graph.render("{}") end, "must be a table with States")
      assert.error_matches(function() graph.render(json.decode(CHAIN), { format = "png" }) end,
        "format must be")
    end)
  end)

  describe("Mermaid", function()
    it("draws a chain with shapes, Choice labels and dashed Catch edges", function()
      local g = mermaid(CHAIN)
      assert.matches("\nflowchart TD\n", g)
      has(g, '  n_start(("Start"))')
      has(g, '  s_First(["First<br/>Pass"])')
      has(g, '  s_Second{{"Second<br/>Wait 10s"}}')
      has(g, '  s_Third((("Third<br/>Succeed")))')
      has(g, "  n_start --> s_First")
      has(g, "  s_Third --> n_end")
      g = mermaid(CHOICE)
      has(g, '  s_Route{"Route<br/>Choice"}')
      has(g, '  s_Route -->|"$.amount #gt; 100"| s_Big')
      has(g, '  s_Route -->|"$.kind == #quot;vip#quot;"| s_Vip')
      has(g, '  s_Route -->|"Default"| s_Small')
      g = mermaid(TASK)
      has(g, '  s_Charge["Charge<br/>Task<br/>retry: States.TaskFailed x3<br/>retry: States.Timeout, Net.Down x5"]')
      has(g, '  s_Charge -.->|"Card.Declined"| s_Declined')
    end)

    it("draws Parallel and nested Map states as subgraphs", function()
      local g = mermaid(PARALLEL)
      has(g, '  subgraph c_s_Both ["Both"]\n    s_Both[/"Parallel"/]\n')
      has(g, '    subgraph b1_s_Both ["Branch 1"]\n      s_Left(["Left<br/>Pass"])\n    end\n')
      has(g, '    subgraph b2_s_Both ["Branch 2"]\n')
      has(g, "  j_s_Both --> s_After")
      g = mermaid(MAP)
      has(g, '  subgraph c_s_Orders ["Orders"]\n    s_Orders[["Map<br/>items: $.orders"]]\n')
      has(g, '    subgraph c_s_Lines ["Lines"]\n      s_Lines[["Map<br/>items: $.lines"]]\n'
        .. '      s_Price["Price<br/>Task"]\n')
    end)

    it("escapes quotes, #, <, > and newlines in labels", function()
      local def = json.decode('{"StartAt": "A \\"b\\" #1 <x>", "States": {'
        .. '"A \\"b\\" #1 <x>": {"Type": "Pass", "Next": "two\\nlines"},'
        .. '"two\\nlines": {"Type": "Succeed"}}}')
      local g = graph.render(def, { format = "mermaid" })
      has(g, 's_A__b___1__x_(["A #quot;b#quot; #35;1 #lt;x#gt;<br/>Pass"])')
      has(g, 's_two_lines((("two<br/>lines<br/>Succeed")))')
      has(g, "s_A__b___1__x_ --> s_two_lines")
    end)
  end)

  describe("Choice rules", function()
    local cases = {
      { { Variable = "$.a", NumericLessThanEquals = 1.5 }, "$.a <= 1.5" },
      { { Variable = "$.a", NumericEqualsPath = "$.b" }, "$.a == $.b" },
      { { Variable = "$.s", StringMatches = "log-*.txt" }, '$.s matches "log-*.txt"' },
      { { Variable = "$.t", TimestampGreaterThan = "2016-08-18T17:33:00Z" },
        '$.t > "2016-08-18T17:33:00Z"' },
      { { Variable = "$.f", BooleanEquals = true }, "$.f == true" },
      { { Variable = "$.x", IsPresent = false }, "!IsPresent($.x)" },
      { { Or = { { Variable = "$.a", NumericGreaterThan = 1 }, { Variable = "$.b", IsString = true } } },
        "Or($.a > 1, IsString($.b))" },
      { { Condition = "{% $states.input.n > 3 %}" }, "$states.input.n > 3" },
    }
    for _, c in ipairs(cases) do
      it("renders " .. c[2], function()
        assert.equal(c[2], graph.rule_text(c[1]))
      end)
    end

    it("shortens long rules", function()
      local rules = {}
      for i = 1, 20 do rules[i] = { Variable = "$.field" .. i, NumericGreaterThan = i } end
      local g = graph.render({ StartAt = "C", States = {
        C = { Type = "Choice", Choices = { { And = rules, Next = "P" } } },
        P = { Type = "Pass", End = true } } })
      local label = g:match('s_C %-> s_P %[label="([^"]*)"%]')
      assert.is_true(#label <= 80)
      assert.matches("^And%(%$%.field1 > 1, .*%.%.%.$", label)
    end)
  end)

  describe("Graphviz", function()
    it("renders the DOT to SVG, naming every state", function()
      assert(h.have("dot"), "Graphviz's 'dot' is not installed (Debian package graphviz;"
        .. " 'make deps' installs it): this test needs it")
      local dir = h.tmpdir()
      for i, def in ipairs({ CHAIN, CHOICE, TASK, PARALLEL, MAP }) do
        local decoded = json.decode(def)
        local names = {}
        local function collect(scope)
          for name, st in pairs(scope.States) do
            names[#names + 1] = name
            if st.ItemProcessor then collect(st.ItemProcessor) end
            if st.Iterator then collect(st.Iterator) end
            for _, b in ipairs(st.Branches or {}) do collect(b) end
          end
        end
        collect(decoded)
        local path = dir .. "/g" .. i .. ".dot"
        h.write(path, graph.render(decoded, { format = "dot" }))
        local status, svg, err = h.run("dot -Tsvg " .. h.shell_quote(path), true)
        assert.equal(0, status, err)
        assert.equal("", err)  -- no warnings either (lhead/ltail, syntax)
        assert.matches("<svg", svg)
        for _, name in ipairs(names) do
          has(svg, ">" .. name .. "</text>")
        end
      end
      h.run("rm -rf " .. h.shell_quote(dir))
    end)
  end)

  describe("with a history", function()
    -- GetExecutionHistory's shape: Charge failed once, was retried, then
    -- failed again and was caught; Notify succeeded; Declined (a Fail
    -- state) failed the execution.
    local HISTORY = [[{"events": [
      {"id": 1, "previousEventId": 0, "type": "ExecutionStarted"},
      {"id": 2, "previousEventId": 1, "type": "PassStateEntered",
       "stateEnteredEventDetails": {"name": "Notify", "input": "{}"}},
      {"id": 3, "previousEventId": 2, "type": "PassStateExited",
       "stateExitedEventDetails": {"name": "Notify", "output": "{}"}},
      {"id": 4, "previousEventId": 3, "type": "TaskStateEntered",
       "stateEnteredEventDetails": {"name": "Charge", "input": "{}"}},
      {"id": 5, "previousEventId": 4, "type": "TaskScheduled"},
      {"id": 6, "previousEventId": 5, "type": "TaskStarted"},
      {"id": 7, "previousEventId": 6, "type": "TaskFailed",
       "taskFailedEventDetails": {"error": "Card.Declined", "cause": "no"}},
      {"id": 8, "previousEventId": 7, "type": "TaskStateExited",
       "stateExitedEventDetails": {"name": "Charge",
         "output": "{\"error\":{\"Error\":\"Card.Declined\",\"Cause\":\"no\"}}"}},
      {"id": 9, "previousEventId": 8, "type": "FailStateEntered",
       "stateEnteredEventDetails": {"name": "Declined", "input": "{}"}},
      {"id": 10, "previousEventId": 9, "type": "ExecutionFailed",
       "executionFailedEventDetails": {"error": "Declined"}}
    ]}]]
    local DEF = [[{"StartAt": "Notify", "States": {
      "Notify": {"Type": "Pass", "Next": "Charge"},
      "Charge": {"Type": "Task", "Resource": "arn:c", "Next": "Done",
        "Catch": [{"ErrorEquals": ["Card.Declined"], "ResultPath": "$.error", "Next": "Declined"}]},
      "Declined": {"Type": "Fail", "Error": "Declined"},
      "Done": {"Type": "Succeed"}}}]]

    it("works out what happened to each state", function()
      assert.same({ Notify = "succeeded", Charge = "caught", Declined = "failed" },
        graph.statuses(json.decode(HISTORY), json.decode(DEF)))
    end)

    it("colours DOT nodes: succeeded green, caught orange, failed red, unvisited plain", function()
      local g = dot(DEF, { history = json.decode(HISTORY) })
      has(g, "// legend: states coloured by the execution history")
      has(g, "//   green  succeeded (fill #a5d6a7, border #2e7d32)")
      has(g, "//   red    failed (fill #ef9a9a, border #c62828)")
      has(g, "//   orange caught (fill #ffcc80, border #ef6c00)")
      has(g, "//   blue   running (fill #90caf9, border #1565c0)")
      has(g, 's_Notify [label="Notify\\nPass", shape=ellipse, style=filled, color="#2e7d32", '
        .. 'fillcolor="#a5d6a7", penwidth=2];')
      has(g, 's_Charge [label="Charge\\nTask", shape=box, style=filled, color="#ef6c00", '
        .. 'fillcolor="#ffcc80", penwidth=2];')
      has(g, 's_Declined [label="Declined\\nFail\\nerror: Declined", shape=doubleoctagon, '
        .. 'style=filled, color="#c62828", fillcolor="#ef9a9a", penwidth=2];')
      has(g, 's_Done [label="Done\\nSucceed", shape=doublecircle, color="#2e7d32"];')
      lacks(dot(DEF), "legend")
    end)

    it("colours Mermaid nodes with classes", function()
      local g = mermaid(DEF, { history = HISTORY })  -- JSON text works too
      has(g, "%% legend: states coloured by the execution history")
      has(g, "  classDef succeeded fill:#a5d6a7,stroke:#2e7d32,stroke-width:2px\n"
        .. "  class s_Notify succeeded\n")
      has(g, "  class s_Charge caught\n")
      has(g, "  class s_Declined failed\n")
      lacks(g, "s_Done caught")
    end)

    it("shows a state entered but not exited as in progress while the execution runs", function()
      local hist = json.decode(HISTORY)
      for i = 10, 4, -1 do table.remove(hist.events, i) end
      hist.events[4] = json.decode('{"id": 4, "previousEventId": 3, "type": "TaskStateEntered",'
        .. '"stateEnteredEventDetails": {"name": "Charge", "input": "{}"}}')
      assert.same({ Notify = "succeeded", Charge = "running" }, graph.statuses(hist))
      local g = dot(DEF, { history = hist })
      has(g, 's_Charge [label="Charge\\nTask", shape=box, style=filled, color="#1565c0", '
        .. 'fillcolor="#90caf9", penwidth=2];')
    end)

    it("colours the Map cluster and an uncaught task failure", function()
      local hist = json.decode([[{"events": [
        {"id": 1, "type": "ExecutionStarted"},
        {"id": 2, "previousEventId": 1, "type": "MapStateEntered",
         "stateEnteredEventDetails": {"name": "Orders"}},
        {"id": 3, "previousEventId": 2, "type": "MapStateEntered",
         "stateEnteredEventDetails": {"name": "Lines"}},
        {"id": 4, "previousEventId": 3, "type": "TaskStateEntered",
         "stateEnteredEventDetails": {"name": "Price"}},
        {"id": 5, "previousEventId": 4, "type": "TaskFailed"},
        {"id": 6, "previousEventId": 5, "type": "MapStateFailed"},
        {"id": 7, "previousEventId": 6, "type": "MapStateFailed"},
        {"id": 8, "previousEventId": 7, "type": "ExecutionFailed"}]}]])
      assert.same({ Orders = "failed", Lines = "failed", Price = "failed" }, graph.statuses(hist))
      local g = dot(MAP, { history = hist })
      has(g, 'subgraph cluster_s_Orders {\n    label="Orders";\n    style=rounded; '
        .. 'color="#c62828"; penwidth=2;')
      has(g, 's_Price [label="Price\\nTask", shape=box, style=filled, color="#c62828"')
      lacks(g, 's_Total [label="Total\\nPass", shape=ellipse, style')
    end)

    it("machine:graph takes an execution, a history table or JSON text", function()
      local engine = orchestra.engine { clock = "virtual" }
      engine:handler("arn:c", function() error({ Error = "Card.Declined", Cause = "no" }) end)
      local machine = engine:load(DEF)
      local ex = machine:start({})
      assert.equal("FAILED", ex:wait())
      local g = machine:graph { history = ex }
      has(g, 's_Notify [label="Notify\\nPass", shape=ellipse, style=filled, color="#2e7d32"')
      has(g, 's_Charge [label="Charge\\nTask", shape=box, style=filled, color="#ef6c00"')
      has(g, 's_Declined [label="Declined\\nFail\\nerror: Declined", shape=doubleoctagon, '
        .. 'style=filled, color="#c62828"')
      assert.equal(g, machine:graph { history = ex:history() })
      assert.equal(g, machine:graph { history = ex:history_json() })
      has(machine:graph { format = "mermaid" }, "flowchart TD")
      assert.equal(dot(DEF), machine:graph())
    end)
  end)

  describe("orchestra graph", function()
    local dir
    before_each(function() dir = h.tmpdir() end)
    after_each(function() h.run("rm -rf " .. h.shell_quote(dir)) end)

    local function file(name, text)
      h.write(dir .. "/" .. name, text)
      return h.shell_quote(dir .. "/" .. name)
    end

    it("prints Mermaid with --format mermaid and DOT by default", function()
      local d = file("def.json", CHOICE)
      local status, out, err = h.orchestra("graph " .. d .. " --format mermaid")
      assert.equal(0, status, err)
      assert.equal("", err)
      assert.equal(mermaid(CHOICE), out)
      status, out = h.orchestra("graph " .. d)
      assert.equal(0, status)
      assert.equal(dot(CHOICE), out)
    end)

    it("colours by --history", function()
      local d = file("def.json", PARALLEL)
      local hist = file("h.json", [[{"events": [
        {"id": 1, "type": "PassStateEntered", "stateEnteredEventDetails": {"name": "After"}},
        {"id": 2, "previousEventId": 1, "type": "PassStateExited",
         "stateExitedEventDetails": {"name": "After", "output": "{}"}},
        {"id": 3, "previousEventId": 2, "type": "ExecutionSucceeded"}]}]])
      local status, out, err = h.orchestra("graph " .. d .. " --history " .. hist)
      assert.equal(0, status, err)
      has(out, 's_After [label="After\\nPass", shape=ellipse, style=filled, color="#2e7d32"')
    end)

    it("draws Map and Parallel states although the executor does not run them yet", function()
      local status, out, err = h.orchestra("graph " .. file("map.json", MAP))
      assert.equal(0, status, err)
      has(out, "subgraph cluster_s_Lines {")
    end)

    it("exits 2 for an invalid definition or one that is not JSON", function()
      local status, out, err = h.orchestra("graph "
        .. file("bad.json", '{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}}'))
      assert.equal(2, status)
      assert.equal("", out)
      assert.matches("/States/A/Next: Next names state 'B', which does not exist", err, 1, true)
      status, out, err = h.orchestra("graph " .. file("text.json", "digraph {}"))
      assert.equal(2, status)
      assert.equal("", out)
      assert.matches("is not JSON", err)
    end)

    it("exits 64 for a bad --format or history, 66 for an unreadable file", function()
      local d = file("def.json", TASK)
      local status, _, err = h.orchestra("graph " .. d .. " --format png")
      assert.equal(64, status)
      assert.matches("%-%-format must be dot or mermaid", err)
      status, _, err = h.orchestra("graph " .. d .. " --history " .. file("h.json", "[1]"))
      assert.equal(64, status)
      assert.matches("not an execution history", err)
      assert.equal(66, (h.orchestra("graph /no/such/def.json")))
      assert.equal(66, (h.orchestra("graph " .. d .. " --history /no/such/h.json")))
    end)
  end)
end)
