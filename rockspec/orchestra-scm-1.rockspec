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
}

build = {
  type = "builtin",
  modules = {
    ["orchestra"] = "lua/orchestra.lua",
    ["orchestra.cli"] = "lua/orchestra/cli.lua",
    ["orchestra.cli_cost"] = "lua/orchestra/cli_cost.lua",
    ["orchestra.cost"] = "lua/orchestra/cost.lua",
    ["orchestra.graph"] = "lua/orchestra/graph.lua",
    ["orchestra.core"] = {
      -- keep equal to core/src/*.c lua/*.c (spec/luarocks_spec.lua checks)
      sources = {
        "core/src/asl.c",
        "core/src/cost.c",
        "core/src/exec.c",
        "core/src/intrinsics.c",
        "core/src/items.c",
        "core/src/json.c",
        "core/src/orc.c",
        "core/src/path.c",
        "core/src/post.c",
        "lua/lcost.c",
        "lua/lengine.c",
        "lua/ljson.c",
        "lua/lorchestra.c",
      },
      incdirs = { "core/include", "core/src", "$(CJSON_INCDIR)" },
      libdirs = { "$(CJSON_LIBDIR)", "$(CURL_LIBDIR)", "$(CRYPTO_LIBDIR)" },
      libraries = { "cjson", "curl", "crypto", "pthread", "m" },
    },
  },
  install = {
    bin = { orchestra = "bin/orchestra" },
    -- the price catalog next to orchestra/cost.lua, where it looks first
    lua = { ["orchestra.prices"] = "data/prices.json" },
  },
}

test_dependencies = { "busted" }
test = { type = "busted" }
