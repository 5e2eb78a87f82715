using Parley.Protocol;

namespace Parley.Tests.Unit;

public sealed class RoomNameTests
{
    [Theory]
    [InlineData("#lobby", "#lobby")]
    [InlineData("lobby", "#lobby")]
    [InlineData("#Lobby", "#lobby")]
    [InlineData("LOBBY", "#lobby")]
    [InlineData("#a", "#a")]
    [InlineData("7", "#7")]
    [InlineData("#Under_Score-Dash-9", "#under_score-dash-9")]
    [InlineData("#-", "#-")]
    public void Valid_names_get_a_hash_and_lower_case(string name, string normalized) => Assert.Equal(normalized, Rooms.Normalize(name));

    [Fact]
    public void Names_of_exactly_32_characters_after_the_hash_are_accepted()
    {
        var name = new string('r', 32);
        Assert.Equal("#" + name, Rooms.Normalize(name));
        Assert.Equal("#" + name, Rooms.Normalize("#" + name));
        Assert.Equal(Rooms.MaxNameLength, Rooms.Normalize(name)!.Length);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("#")]
    [InlineData("##lobby")]
    [InlineData("#two words")]
    [InlineData(" #lobby")]
    [InlineData("#lobby ")]
    [InlineData("#caf\u00e9")]              // a non-ASCII letter
    [InlineData("#\uff41")]                 // a full-width 'a'
    [InlineData("#room.name")]
    [InlineData("#room!")]
    [InlineData("#rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr")] // 33 after the hash
    [InlineData("rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr")]  // 33 without one
    public void Invalid_names_are_refused(string? name) => Assert.Null(Rooms.Normalize(name));

    [Fact]
    public void The_default_room_is_already_normal() => Assert.Equal(Rooms.Default, Rooms.Normalize(Rooms.Default));
}
