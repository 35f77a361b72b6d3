local orchestra = require "orchestra"
local json = orchestra.json

local HAS_INTEGERS = math.type ~= nil -- Lua 5.3+

local function roundtrip(text)
  return json.encode(json.decode(text))
end

local function decode_error(text, opts)
  local ok, err = pcall(json.decode, text, opts)
  assert.is_false(ok, "decoding should fail: " .. text)
  return err
end

local function encode_error(value, opts)
  local ok, err = pcall(json.encode, value, opts)
  assert.is_false(ok, "encoding should fail")
  return err
end

describe("orchestra.json", function()
  describe("null", function()
    it("decodes null as orchestra.null", function()
      local v = json.decode('{"a":null,"b":[null]}')
      assert.equal(orchestra.null, v.a)
      assert.equal(orchestra.null, v.b[1])
      assert.equal(1, #v.b)
      assert.equal("userdata", type(orchestra.null))
    end)

    it("encodes orchestra.null and nil as null", function()
      assert.equal("null", json.encode(orchestra.null))
      assert.equal("null", json.encode(nil))
      assert.equal('[1,null,3]', json.encode({ 1, orchestra.null, 3 }))
      assert.equal('{"a":null}', json.encode({ a = orchestra.null }))
    end)

    it("is the same value as json.null", function()
      assert.equal(orchestra.null, json.null)
    end)
  end)

  describe("empty arrays and objects", function()
    it("keep [] and {} distinct through a round trip", function()
      assert.equal('{"a":[],"o":{}}', roundtrip('{"a":[],"o":{}}'))
      assert.equal("[]", roundtrip("[]"))
      assert.equal("{}", roundtrip("{}"))
    end)

    it("marks decoded arrays with orchestra.array_mt", function()
      local v = json.decode('[[],{}]')
      assert.equal(orchestra.array_mt, getmetatable(v))
      assert.equal(orchestra.array_mt, getmetatable(v[1]))
      assert.is_nil(getmetatable(v[2]))
    end)

    it("encodes a plain empty table as an object", function()
      assert.equal("{}", json.encode({}))
    end)

    it("honours the orchestra.array and orchestra.object markers", function()
      assert.equal("[]", json.encode(orchestra.array()))
      assert.equal("{}", json.encode(orchestra.object()))
      local t = {}
      assert.equal(t, orchestra.array(t))
      assert.equal("[]", json.encode(t))
      assert.equal('{"1":"a","2":"b"}', json.encode(orchestra.object({ "a", "b" })))
      assert.equal('[1,2]', json.encode(orchestra.array({ 1, 2 })))
    end)
  end)

  describe("nesting", function()
    it("round-trips nested arrays of objects", function()
      local text = '{"orders":[{"id":1,"items":[{"qty":2,"sku":"a"},{"qty":1,"sku":"b"}]},'
        .. '{"id":2,"items":[]}],"total":3}'
      local v = json.decode(text)
      assert.equal(2, #v.orders)
      assert.equal("b", v.orders[1].items[2].sku)
      assert.equal(0, #v.orders[2].items)
      assert.equal(text, json.encode(v))
    end)

    it("sorts object keys so that encoding is deterministic", function()
      assert.equal('{"a":1,"b":2,"c":3}', json.encode({ c = 3, a = 1, b = 2 }))
    end)

    it("keeps the document's key order when decoding", function()
      -- order is lost in a Lua table, but values survive
      local v = json.decode('{"z":1,"a":2}')
      assert.equal(1, v.z)
      assert.equal(2, v.a)
    end)

    it("keeps the last value of a duplicated key", function()
      local v = json.decode('{"a":1,"b":2,"a":3}')
      assert.equal(3, v.a)
      assert.equal('{"a":3,"b":2}', json.encode(v))
    end)

    it("indents when asked", function()
      assert.equal('{\n  "a": [\n    1,\n    {}\n  ],\n  "b": []\n}',
        json.encode({ a = { 1, {} }, b = orchestra.array() }, { indent = true }))
    end)
  end)

  describe("numbers", function()
    it("keeps integers integers", function()
      local v = json.decode('[1, -7, 0, 9007199254740991]')
      assert.equal(1, v[1])
      assert.equal(-7, v[2])
      assert.equal(9007199254740991, v[4])
      if HAS_INTEGERS then
        assert.equal("integer", math.type(v[1]))
        assert.equal("integer", math.type(v[4]))
      end
      assert.equal("[1,-7,0,9007199254740991]", json.encode(v))
    end)

    it("prints 2^53 - 1 with all its digits (cJSON would print 9.00719925474099e+15)", function()
      assert.equal("9007199254740991", json.encode(9007199254740991))
      assert.equal("[9007199254740991]", roundtrip("[9007199254740991]"))
    end)

    it("tells 1 from 1.0 from 1e300", function()
      local v = json.decode("[1, 1.0, 1e300, 2.5, -0.0, 0.1, 1e-7]")
      assert.equal(1, v[1])
      assert.equal(1, v[2])
      assert.equal(1e300, v[3])
      assert.equal(2.5, v[4])
      assert.equal(0.1, v[6])
      assert.equal(1e-7, v[7])
      if HAS_INTEGERS then
        assert.equal("integer", math.type(v[1]))
        assert.equal("float", math.type(v[2]))
        assert.equal("float", math.type(v[3]))
        assert.equal("[1,1.0,1e+300,2.5,-0.0,0.1,1e-07]", json.encode(v))
      else
        -- one number type: integral values print as integers
        assert.equal("[1,1,1e+300,2.5,-0.0,0.1,1e-07]", json.encode(v))
      end
    end)

    it("round-trips floats exactly with the shortest text", function()
      for _, x in ipairs({ 0.1, 1 / 3, 2 / 3, 123.456, 5e-324, 1.7976931348623157e308,
                           -2.2250738585072014e-308, 3.141592653589793 }) do
        local text = json.encode(x)
        assert.equal(x, json.decode(text), text)
      end
      assert.equal("0.1", json.encode(0.1))
      assert.equal("0.3333333333333333", json.encode(1 / 3))
    end)

    it("keeps 64-bit integers exact on Lua 5.3+", function()
      if not HAS_INTEGERS then
        -- Lua 5.1 and LuaJIT have doubles only: exact to 2^53
        assert.equal(2 ^ 53, json.decode("9007199254740992"))
        return
      end
      local text = "[9007199254740993,-9223372036854775808,9223372036854775807]"
      local v = json.decode(text)
      assert.equal(math.tointeger("9007199254740993"), v[1])
      assert.equal(math.mininteger, v[2])
      assert.equal(math.maxinteger, v[3])
      assert.equal(text, json.encode(v))
    end)

    it("reads integers beyond 64 bits as floats", function()
      assert.equal("1.2345678901234568e+29", roundtrip("123456789012345678901234567890"))
    end)

    it("refuses NaN and infinities on encode", function()
      assert.matches("cannot encode NaN %(JSON has no NaN%) at /x",
        encode_error({ x = 0 / 0 }))
      assert.matches("cannot encode an infinite number %(JSON has no Infinity%) at /1",
        encode_error({ 1, math.huge }))
      assert.matches("infinite number", encode_error(-math.huge))
    end)

    it("refuses numbers too large for a double on decode", function()
      assert.matches("number is too large for a double", decode_error("[1e400]"))
    end)
  end)

  describe("strings", function()
    it("decodes unicode escapes, surrogate pairs included", function()
      assert.equal("é", json.decode('"\\u00e9"'))
      assert.equal("😀", json.decode('"\\ud83d\\ude00"'))
      assert.equal("a\"b\\c/d\b\f\n\r\t", json.decode('"a\\"b\\\\c\\/d\\b\\f\\n\\r\\t"'))
    end)

    it("passes raw UTF-8 through both ways", function()
      local s = "héllo wörld — 日本語 😀"
      assert.equal('"' .. s .. '"', json.encode(s))
      assert.equal(s, json.decode('"' .. s .. '"'))
    end)

    it("escapes quotes, backslashes and control characters", function()
      assert.equal('"a\\"b\\\\c\\n\\u0001"', json.encode("a\"b\\c\n\1"))
    end)

    it("refuses strings that are not UTF-8 on encode", function()
      assert.matches("string is not valid UTF%-8 %(bad byte 0xFF at offset 1%) at /name",
        encode_error({ name = "a\255b" }))
      assert.matches("not valid UTF%-8", encode_error("\237\160\128")) -- a surrogate
      assert.matches("not valid UTF%-8", encode_error("\192\175"))     -- overlong '/'
    end)

    it("refuses invalid UTF-8 and lone surrogates on decode", function()
      assert.matches("invalid UTF%-8 in a string", decode_error('"a\255"'))
      assert.matches("invalid JSON at byte 2 .*lone UTF%-16 surrogate", decode_error('["\\ud800"]'))
      assert.matches("lone UTF%-16 surrogate", decode_error('"\\udc00\\ud800"'))
      assert.matches("lone UTF%-16 surrogate", decode_error('"\\ud800x"'))
    end)

    it("carries U+0000 inside strings both ways (#9)", function()
      local v = json.decode('{"k\\u0000ey": "a\\u0000b", "s": ["\\u0000", "x\\u00e9\\u0000\\ud834\\udd1e"]}')
      assert.equal("a\0b", v["k\0ey"])
      assert.equal("\0", v.s[1])
      assert.equal("x\195\169\0\240\157\132\158", v.s[2])
      assert.equal('{"k\\u0000ey":"a\\u0000b","s":["\\u0000","x\195\169\\u0000\240\157\132\158"]}',
        json.encode(v))
      assert.same(v, json.decode(json.encode(v)))
    end)

    it("refuses raw control characters in strings", function()
      assert.matches("control character U%+0009 must be escaped", decode_error('"a\tb"'))
    end)
  end)

  describe("invalid JSON", function()
    it("names the byte offset, line and column and shows the text around it", function()
      local err = decode_error('{"a": 1,\n "b": }')
      assert.matches("invalid JSON at byte 15 %(line 2, column 7%)", err)
      assert.matches("unexpected character '}'", err)
      assert.matches('near: {"a": 1,\\n "b":  >>> }', err, 1, true)
    end)

    it("reports a premature end of input", function()
      assert.matches("invalid JSON at byte 5 %(line 1, column 6%): unexpected end of input",
        decode_error("[1, 2"))
      assert.matches("unterminated string", decode_error('["abc'))
    end)

    it("reports trailing garbage", function()
      assert.matches("invalid JSON at byte 3 .*unexpected character 'x'", decode_error("[1]x"))
    end)

    it("is strict about numbers", function()
      assert.matches("leading zeros", decode_error("[01]"))
      assert.matches("decimal point must be followed by digits", decode_error("[1.]"))
      assert.matches("exponent must have digits", decode_error("[1e]"))
      assert.matches("unexpected character '%.'", decode_error("[.5]"))
      assert.matches("unexpected character '%+'", decode_error("[+1]"))
    end)

    it("refuses empty text, bad literals and bad escapes", function()
      assert.matches("the text holds no value", decode_error(""))
      assert.matches("the text holds no value", decode_error("  \n"))
      assert.matches("at byte 3 .*unexpected end of input inside the literal true", decode_error("tru"))
      assert.matches("at byte 4 .*unexpected character 'x' inside the literal true", decode_error("[trux]"))
      assert.matches("invalid escape sequence", decode_error('"\\x"'))
    end)

    it("shortens the excerpt of long texts", function()
      local err = decode_error(string.rep(" ", 100) .. "x" .. string.rep(" ", 100))
      assert.matches("at byte 100", err)
      assert.matches("near: %.%.%. + >>> x +%.%.%.$", err)
    end)

    it("names the offending byte and character exactly (#9)", function()
      local bad = {
        "{bad", "[1, x]", "[1]x", '{"a" 1}', '{"a":1,}', "[1,]", "[,1]", "{,}",
        '{"a":1 "b":2}', "[1 2]", "]", "}", '{"a":}', "{1:2}", "[nul]", "[-]",
        "[1,2]]", '{"a":1}}', "[\"a\" :]", "[:]", "[1}", '{"a":1]',
      }
      for _, text in ipairs(bad) do
        local err = decode_error(text)
        local at = tonumber(err:match("at byte (%d+)"))
        assert.is_not_nil(at, err)
        local c = err:match("unexpected character '(.)'")
        if c then
          assert.equal(text:sub(at + 1, at + 1), c, text .. " -> " .. err)
        elseif err:match("unexpected end of input") then
          assert.equal(#text, at, text .. " -> " .. err)
        else
          assert.equal("[-]", text)
          assert.matches("at byte 2 .*a minus sign must be followed by digits", err)
        end
      end
      assert.matches("^invalid JSON at byte 1 %(line 1, column 2%): unexpected character 'b' "
        .. "%(expected a string key or '}'%)", decode_error("{bad"))
      assert.matches("at byte 7 .*unexpected character '}' %(expected a string key%)",
        decode_error('{"a":1,}'))
      assert.matches("at byte 7 .*unexpected character '\"' %(expected ',' or '}'%)",
        decode_error('{"a":1 "b":2}'))
    end)

    it("takes only space, tab, LF and CR as whitespace (#9)", function()
      assert.matches("at byte 1 .*unexpected byte 0x0C", decode_error("[\f]"))
      assert.matches("at byte 2 .*unexpected byte 0x00 %(expected the end of the text%)",
        decode_error("[]\0"))
      assert.matches("at byte 1 .*unexpected byte 0x00", decode_error("[\0]"))
      assert.same({ 1 }, json.decode(" \t\r\n[1] \t\r\n"))
    end)

    it("rejects non-string arguments", function()
      assert.has_error(function() json.decode({}) end)
    end)
  end)

  describe("limits", function()
    it("limits nesting depth on decode (default 512)", function()
      local ok_text = string.rep("[", 512) .. string.rep("]", 512)
      assert.is_table(json.decode(ok_text))
      local err = decode_error(string.rep("[", 513) .. string.rep("]", 513))
      assert.matches("at byte 512 .*nesting is deeper than the limit of 512", err)
      assert.matches("nesting is deeper than the limit of 3",
        decode_error('[[[["x"]]]]', { max_depth = 3 }))
    end)

    it("limits nesting depth on encode", function()
      local v = "leaf"
      for _ = 1, 600 do v = { v } end
      assert.matches("nesting is deeper than the limit of 512", encode_error(v))
      assert.matches("nesting is deeper than the limit of 2 at /0/0",
        encode_error({ { { 1 } } }, { max_depth = 2 }))
    end)

    it("shortens the pointer of a deep encode error, keeping its start and end (#9)", function()
      local v = "leaf"
      for _ = 1, 2000 do v = { x = v } end
      local err = encode_error(v, { max_depth = 1000 })
      assert.equal("cannot encode JSON: nesting is deeper than the limit of 1000 at "
        .. "/x/x/x/x/x/x/x/x/...(986 levels).../x/x/x/x/x/x", err:gsub("^[^:]*:%d+: ", ""))
      assert.is_true(#err < 200)
    end)

    it("limits the size of the text", function()
      assert.matches("JSON text of 9 bytes is over the limit of 8 bytes",
        decode_error('"1234567"', { max_bytes = 8 }))
      assert.equal("1234567", json.decode('"1234567"', { max_bytes = 9 }))
    end)

    it("validates its options", function()
      assert.has_error(function() json.decode("1", { max_depth = 0 }) end,
        "option 'max_depth' must be a positive number")
      assert.has_error(function() json.decode("1", { max_depth = 5000 }) end,
        "option 'max_depth' must be at most 1000")
    end)
  end)

  describe("tables JSON cannot hold", function()
    it("refuses cyclic tables with a clear error and no crash", function()
      local t = { name = "loop" }
      t.self = t
      assert.matches("cannot encode a cyclic table %(it contains itself%) at /self",
        encode_error(t))
      local a = {}
      a[1] = { a }
      assert.matches("cyclic table .* at /0/0", encode_error(a))
    end)

    it("allows the same table twice when it is not a cycle", function()
      local shared = { 1 }
      assert.equal('{"a":[1],"b":[1]}', json.encode({ a = shared, b = shared }))
    end)

    it("refuses arrays with holes", function()
      assert.matches("array has a hole at index 2 %(use orchestra.null for null elements%) at /list",
        encode_error({ list = { 1, nil, 3 } }))
    end)

    it("refuses mixed integer and string keys", function()
      assert.matches("table mixes integer and string keys", encode_error({ 1, x = 2 }))
    end)

    it("refuses functions, coroutines, userdata and non-string keys", function()
      assert.matches("cannot encode a value of type function at /f", encode_error({ f = print }))
      assert.matches("type thread", encode_error({ coroutine.create(function() end) }))
      assert.matches("type userdata", encode_error({ io.stdout }))
      assert.matches("table key is not a string", encode_error({ [true] = 1 }))
      assert.matches("table key is not a string", encode_error({ [1.5] = 1 }))
    end)

    it("escapes / and ~ in the JSON pointer of an error", function()
      assert.matches("at /a~1b/c~0d", encode_error({ ["a/b"] = { ["c~d"] = print } }), 1, true)
    end)
  end)

  it("survives many decodes and encodes (no state kept between calls)", function()
    local text = '{"a":[1,2,{"b":null}],"c":"d"}'
    for _ = 1, 2000 do
      assert.equal(text, json.encode(json.decode(text)))
    end
  end)
end)
