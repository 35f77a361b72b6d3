rockspec_format = "3.0"
package = "orchestra"
version = "scm-1"

source = {
  url = "git+https://example.invalid/orchestra.git",
}

description = {
  summary = "Embeddable orchestration engine: Amazon States Language workflows, agents and a cost model",
  detailed = [[
orchestra runs Amazon States Language state machines with Step Functions'
semantics, drives reasoning agents that call Lua tools, and compares their
costs. A C core with a Lua binding, driven by its host (engine:step()).
]],
  license = "MIT",
}

dependencies = {
  "lua >= 5.1",
}

external_dependencies = {
  CJSON = { header = "cjson/cJSON.h", library = "cjson" },
  -- Debian keeps curl.h under /usr/include/<triplet>/, which LuaRocks does
  -- not search: probe the library only.
  CURL = { library = "curl" },
  CRYPTO = { header = "openssl/evp.h", library = "crypto" },
  PCRE2 = { header = "pcre2.h", library = "pcre2-8" },
}

-- CMake builds the C module out of the source tree (in build.luarocks/):
-- the builtin backend would write objects next to the sources and copy
-- every file under lua/ (the C sources too) into the tree as Lua modules.
-- The C sources are what CMakeLists.txt globs: core/src/*.c and lua/*.c.
build = {
  type = "cmake",
  variables = {
    CMAKE_BUILD_TYPE = "Release",
    ORCHESTRA_LUA_INCDIR = "$(LUA_INCDIR)",
    ORCHESTRA_INSTALL_LIBDIR = "$(LIBDIR)",
    ORCHESTRA_TESTS = "OFF",
  },
  install = {
    lua = {
      ["orchestra"] = "lua/orchestra.lua",
      ["orchestra.cli"] = "lua/orchestra/cli.lua",
      ["orchestra.cli_agent"] = "lua/orchestra/cli_agent.lua",
      ["orchestra.cli_history"] = "lua/orchestra/cli_history.lua",
      ["orchestra.cli_cost"] = "lua/orchestra/cli_cost.lua",
      ["orchestra.cost"] = "lua/orchestra/cost.lua",
      ["orchestra.graph"] = "lua/orchestra/graph.lua",
      ["orchestra.models"] = "lua/orchestra/models.lua",
      -- the price catalog next to orchestra/cost.lua, where it looks first
      ["orchestra.prices"] = "data/prices.json",
    },
    bin = { orchestra = "bin/orchestra" },
  },
}

test_dependencies = { "busted" }
test = { type = "busted" }
