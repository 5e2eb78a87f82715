using System.Text;
using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;

namespace Parley.Tests.Fuzz.Support;

/// <summary>What one mutation does to a message's bytes; the two numbers pick positions and values.</summary>
internal enum MutationKind
{
    FlipBit,
    Truncate,
    InsertInvalidUtf8,
    DeleteRange,
    DuplicateRange,
    OverwriteByte,
    TrailingJunk,
    DropField,
    DuplicateField,
    ReplaceValue,
    SwapValues,
    RenameKey,
    AddUnknownField,
    SetMsgtype,
    WrapInNesting,
}

/// <summary>One mutation, printable so that a failing case reads as what was done (FsCheck prints its arguments).</summary>
internal readonly record struct Mutation(MutationKind Kind, int A, int B)
{
    public override string ToString() => $"{Kind}({A},{B})";
}

/// <summary>
/// Mutations of a JSON message (issue #9: bit flips, truncation, deep nesting, invalid UTF-8, duplicate keys, wrong
/// types, unknown msgtype, huge numbers, nulls). Byte mutations work on any input; the structural ones rewrite the
/// object's members, and on input that no longer parses as an object fall back to a bit flip.
/// </summary>
internal static class JsonMutator
{
    /// <summary>Values a field may be replaced with: every JSON type, numbers just past int32/int64, nesting deeper than any parser's limit.</summary>
    public static readonly string[] HostileValues =
    [
        "null", "true", "false", "0", "-1", "2147483648", "-2147483649", "9223372036854775808", "1e400", "4096.0", "4.096e3", "-0",
        "\"\"", "\"x\"", "[]", "{}", "[1,\"a\",null]", """{"msgtype":"PING"}""", "\"\\ud800\"", "\"\\udc00\\ud800\"", "\"\\u0000\"",
        "\"é✓🙂\"", "\"" + new string('a', 5000) + "\"", new string('[', 10_000) + new string(']', 10_000),
        string.Concat(Enumerable.Repeat("{\"a\":", 10_000)) + "1" + new string('}', 10_000), new string('9', 1000),
    ];

    /// <summary>Msgtypes a mutation may set: client and server types, out-of-state ones, unknown and wrongly cased names.</summary>
    public static readonly string[] Msgtypes =
    [
        "HELLO", "CHALLENGE", "RESPONSE", "AUTH_SUCCESS", "AUTH_FAIL", "CONNECT", "CONNECTED", "CHAT_REQUEST", "CHAT_STARTED", "UNREACHABLE",
        "END_REQUEST", "END_NOTIF", "CHAT", "HISTORY_REQ", "HISTORY_RESP", "HISTORY_END", "PING", "PONG", "ERROR", "NOTICE", "SIGNUP_HELLO",
        "SIGNUP", "LIST_REQ", "LIST_RESP", "PASSWD", "DM", "DM_ACK", "TALK", "READ", "JOIN", "PART", "SAY", "ROOMS", "KEYS_PUT", "KEYS_GET",
        "LISTEN", "LOOKUP_REQUEST", "TEXT", "chat", "Chat_Request", "SHOUT", "", "LOG_OFF",
    ];

    private static readonly byte[][] InvalidUtf8 = [[0xFF], [0xC3, 0x28], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82], [0x80]];
    private static readonly string[] Junk = [",", "}", " x", "//c", "/*c*/", "\n\t ", "{}", "\0", ","];

    public static Gen<Mutation> Mutations { get; } =
        from kind in Gen.Choose(0, Enum.GetValues<MutationKind>().Length - 1)
        from a in Gen.Choose(0, int.MaxValue)
        from b in Gen.Choose(0, int.MaxValue)
        select new Mutation((MutationKind)kind, a, b);

    /// <summary>One to three mutations applied in turn.</summary>
    public static Gen<Mutation[]> Stacks { get; } = Gen.Choose(1, 3).SelectMany(n => Mutations.ArrayOf(n));

    public static byte[] Apply(byte[] json, IEnumerable<Mutation> mutations) =>
        mutations.Aggregate(json, Apply);

    public static byte[] Apply(byte[] json, Mutation m) => m.Kind switch
    {
        MutationKind.FlipBit => FlipBit(json, m.A, m.B),
        MutationKind.Truncate => json[..(m.A % (json.Length + 1))],
        MutationKind.InsertInvalidUtf8 => Insert(json, m.A, InvalidUtf8[m.B % InvalidUtf8.Length]),
        MutationKind.DeleteRange => json.Length == 0 ? json : [.. json[..(m.A % json.Length)], .. json[Math.Min(json.Length, (m.A % json.Length) + 1 + (m.B % 8))..]],
        MutationKind.DuplicateRange => json.Length == 0 ? json : Insert(json, m.A, json[(m.B % json.Length)..Math.Min(json.Length, (m.B % json.Length) + 1 + (m.A % 16))]),
        MutationKind.OverwriteByte => json.Length == 0 ? json : Overwrite(json, m.A % json.Length, (byte)m.B),
        MutationKind.TrailingJunk => [.. json, .. Encoding.UTF8.GetBytes(Junk[m.A % Junk.Length])],
        _ => Members(json) is { } members ? Structural(members, m) : FlipBit(json, m.A, m.B),
    };

    private static byte[] Structural(List<(string Key, string Value)> members, Mutation m)
    {
        var at = members.Count == 0 ? 0 : m.A % members.Count;
        switch (m.Kind)
        {
            case MutationKind.DropField when members.Count > 0:
                members.RemoveAt(at);
                break;
            case MutationKind.DuplicateField when members.Count > 0:
                // The copy comes first (the last value wins) or with another value: both are a repeated key.
                members.Insert(m.B % (members.Count + 1), (members[at].Key, m.B % 2 == 0 ? members[at].Value : HostileValues[m.B % HostileValues.Length]));
                break;
            case MutationKind.ReplaceValue when members.Count > 0:
                members[at] = (members[at].Key, HostileValues[m.B % HostileValues.Length]);
                break;
            case MutationKind.SwapValues when members.Count > 1:
                var other = m.B % members.Count;
                (members[at], members[other]) = ((members[at].Key, members[other].Value), (members[other].Key, members[at].Value));
                break;
            case MutationKind.RenameKey when members.Count > 0:
                var key = members[at].Key;
                members[at] = (m.B % 2 == 0 ? key.ToUpperInvariant() : key.Replace("_", "", StringComparison.Ordinal), members[at].Value);
                break;
            case MutationKind.AddUnknownField:
                members.Insert(m.B % (members.Count + 1), ("x_" + (m.A % 100), HostileValues[m.B % HostileValues.Length]));
                break;
            case MutationKind.SetMsgtype:
                var msgtype = JsonSerializer.Serialize(Msgtypes[m.B % Msgtypes.Length]);
                var index = members.FindIndex(p => p.Key == "msgtype");
                if (index < 0)
                {
                    members.Insert(0, ("msgtype", msgtype));
                }
                else
                {
                    members[index] = ("msgtype", msgtype);
                }

                break;
            case MutationKind.WrapInNesting:
                var depth = 1 + (m.B % 10_000);
                var json = Write(members);
                return Encoding.UTF8.GetBytes(new string('[', depth) + json + new string(']', depth));
        }

        return Encoding.UTF8.GetBytes(Write(members));
    }

    /// <summary>The members of a JSON object in order, duplicates kept; null when the bytes are not one object.</summary>
    private static List<(string Key, string Value)>? Members(byte[] json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.ValueKind == JsonValueKind.Object
                ? [.. document.RootElement.EnumerateObject().Select(p => (p.Name, p.Value.GetRawText()))]
                : null;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return null; // not JSON, or a key that is not valid UTF-8
        }
    }

    private static string Write(List<(string Key, string Value)> members) =>
        "{" + string.Join(",", members.Select(p => JsonSerializer.Serialize(p.Key) + ":" + p.Value)) + "}";

    private static byte[] FlipBit(byte[] json, int position, int bit)
    {
        if (json.Length == 0)
        {
            return json;
        }

        var copy = (byte[])json.Clone();
        copy[position % copy.Length] ^= (byte)(1 << (bit % 8));
        return copy;
    }

    private static byte[] Overwrite(byte[] json, int position, byte value)
    {
        var copy = (byte[])json.Clone();
        copy[position] = value;
        return copy;
    }

    private static byte[] Insert(byte[] json, int position, byte[] bytes)
    {
        var at = position % (json.Length + 1);
        return [.. json[..at], .. bytes, .. json[at..]];
    }
}
