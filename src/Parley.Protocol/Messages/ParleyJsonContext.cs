using System.Text.Json.Serialization;

namespace Parley.Protocol.Messages;

/// <summary>
/// Source-generated serializer (CONVENTIONS.md habit 3): no reflection, snake_case keys, <c>msgtype</c> accepted
/// anywhere in the object so independent clients need not order keys, required constructor parameters enforced.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    AllowOutOfOrderMetadataProperties = true,
    RespectRequiredConstructorParameters = true,
    RespectNullableAnnotations = true,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip)]
[JsonSerializable(typeof(ParleyMessage))]
[JsonSerializable(typeof(AuthTicket))]
[JsonSerializable(typeof(SignUpForm))]
[JsonSerializable(typeof(SignUpOutcome))]
internal sealed partial class ParleyJsonContext : JsonSerializerContext;
