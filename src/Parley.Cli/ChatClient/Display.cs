using System.Text;

namespace Parley.Cli.ChatClient;

/// <summary>Text from other people is shown, never executed: control characters would let a peer drive our terminal.</summary>
internal static class Display
{
    public static string Clean(string text)
    {
        if (!text.AsSpan().ContainsAnyInRange('\0', '\x1f') && !text.AsSpan().ContainsAnyInRange('\x7f', '\x9f'))
        {
            return text;
        }

        var clean = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            clean.Append(c is < ' ' or (>= '\x7f' and <= '\x9f') ? '\uFFFD' : c);
        }

        return clean.ToString();
    }
}
