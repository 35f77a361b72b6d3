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
        "core/src/exec.c",
        "core/src/intrinsics.c",
        "core/src/items.c",
        "core/src/jsonata_aws.c",
        "core/src/jsonata_eval.c",
        "core/src/jsonata_fn.c",
        "core/src/jsonata_parse.c",
        "core/src/jsonata_regex.c",
        "core/src/jsonata_time.c",
        "core/src/json.c",
        "core/src/orc.c",
        "core/src/path.c",
        "core/src/post.c",
        "lua/ljsonata.c",
        "lua/lengine.c",
        "lua/ljson.c",
        "lua/lorchestra.c",
      },
      incdirs = { "core/include", "core/src", "$(CJSON_INCDIR)", "$(PCRE2_INCDIR)" },
      libdirs = { "$(CJSON_LIBDIR)", "$(CURL_LIBDIR)", "$(CRYPTO_LIBDIR)", "$(PCRE2_LIBDIR)" },
      libraries = { "cjson", "curl", "crypto", "pcre2-8", "pthread", "m" },
    },
  },
  install = {
    bin = { orchestra = "bin/orchestra" },
  },
}

test_dependencies = { "busted" }
test = { type = "busted" }
