using System.Buffers;
using System.Text.Json;

namespace Parley.Protocol.Messages;

/// <summary>UTF-8 JSON encoding of <see cref="ParleyMessage"/>s; the only place the wire's JSON is touched.</summary>
public static class MessageCodec
{
    public static void Write(IBufferWriter<byte> output, ParleyMessage message)
    {
        using var writer = new Utf8JsonWriter(output);
        JsonSerializer.Serialize(writer, message, ParleyJsonContext.Default.ParleyMessage);
    }

    public static byte[] ToBytes(ParleyMessage message) =>
        JsonSerializer.SerializeToUtf8Bytes(message, ParleyJsonContext.Default.ParleyMessage);

    /// <summary>Parses one message; a malformed or unknown one becomes a non-fatal <see cref="ProtocolException"/>.</summary>
    public static ParleyMessage Read(ReadOnlySpan<byte> json)
    {
        try
        {
            return JsonSerializer.Deserialize(json, ParleyJsonContext.Default.ParleyMessage)
                ?? throw new ProtocolException(ErrorCodes.BadMessage, "A message must be a JSON object, not null.");
        }
        catch (JsonException e) when (IsUnknownType(e))
        {
            throw new ProtocolException(ErrorCodes.UnknownMsgType, "The msgtype is missing or not one this server knows.");
        }
        catch (JsonException)
        {
            throw new ProtocolException(ErrorCodes.BadMessage, "The message is not valid JSON or lacks a required field.");
        }
        catch (NotSupportedException)
        {
            throw new ProtocolException(ErrorCodes.UnknownMsgType, "The msgtype is missing or not one this server knows.");
        }
    }

    internal static byte[] SealTicket(AuthTicket ticket) =>
        JsonSerializer.SerializeToUtf8Bytes(ticket, ParleyJsonContext.Default.AuthTicket);

    internal static AuthTicket? OpenTicket(ReadOnlySpan<byte> json) =>
        JsonSerializer.Deserialize(json, ParleyJsonContext.Default.AuthTicket);

    // System.Text.Json reports an unrecognized or absent discriminator as a JsonException whose message names
    // the discriminator; there is no dedicated exception type to catch.
    private static bool IsUnknownType(JsonException e) =>
        e.Message.Contains("type discriminator", StringComparison.OrdinalIgnoreCase)
        || e.Message.Contains("abstract", StringComparison.OrdinalIgnoreCase);
}
