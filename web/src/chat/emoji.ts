// The reactions offered by the picker: common ones, in the order most chats show them.
export const kReactionEmoji = [
  '👍', '👎', '❤️', '😂', '😮', '😢', '🎉', '🙏',
  '👀', '🔥', '✅', '❌', '👏', '🙌', '🤔', '😅',
  '😍', '😎', '🚀', '💯', '⭐', '☕', '🐝', '🍯',
] as const;
