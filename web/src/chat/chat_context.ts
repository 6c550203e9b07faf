// The signed-in user's Chat for components deep in a room (a message's image needs it to fetch
// authenticated media) without threading it through every list in between.
import { createContext } from 'preact';
import type { Chat } from './chat_client';

export const ChatContext = createContext<Chat | null>(null);
