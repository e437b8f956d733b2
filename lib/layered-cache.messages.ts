/**
 * Every message this library shows a user, in one place. Each says what was wrong and how to fix it.
 * This file imports nothing from Nest so that the core can use it too.
 */
