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
    ["orchestra.graph"] = "lua/orchestra/graph.lua",
    ["orchestra.core"] = {
      -- keep equal to core/src/*.c lua/*.c (spec/luarocks_spec.lua checks)
      sources = {
        "core/src/asl.c",
        "core/src/bedrock.c",
        "core/src/choice.c",
        "core/src/dmap.c",
        "core/src/engine.c",
        "core/src/enghttp.c",
        "core/src/execution.c",
        "core/src/group.c",
        "core/src/history.c",
        "core/src/http.c",
        "core/src/intrinsics.c",
        "core/src/items.c",
        "core/src/json.c",
        "core/src/llm.c",
        "core/src/llm_anthropic.c",
        "core/src/llm_bedrock.c",
        "core/src/llm_openai.c",
        "core/src/machine.c",
        "core/src/nested.c",
        "core/src/orc.c",
        "core/src/path.c",
        "core/src/post.c",
        "core/src/recover.c",
        "core/src/sched.c",
        "core/src/schema.c",
        "core/src/sigv4.c",
        "core/src/state.c",
        "core/src/table.c",
        "core/src/task.c",
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
  },
}

test_dependencies = { "busted" }
test = { type = "busted" }
